// SPDX-License-Identifier: GPL-2.0-or-later
//! Business hours and holiday calendars in an IANA time zone.
