// SPDX-License-Identifier: GPL-2.0-or-later
//! Validation of collected digits: pattern, Luhn, numeric range, date.
