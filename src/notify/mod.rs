// SPDX-License-Identifier: GPL-2.0-or-later
//! Notifications sent out of the module, PBX-neutral and without FFI.
//!
//! - [`mail`]: e-mail (SMTP) notice of voicemail messages: one blocking
//!   [`send`], the subject/body template [`fill`], and the [`Mailer`]
//!   thread (`hotline-mail`) that delivers queued mails with retries, so no
//!   PBX thread ever waits on a mail server.
//! - [`webhook`]: signed webhooks (CTI screen pop) from a durable outbox.

pub mod mail;
pub mod webhook;

pub use mail::{check_mailbox, fill, send, Mail, MailConfig, MailCounters, MailTls, Mailer};
