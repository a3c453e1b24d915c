/*
 * Hotline — call-center module for Asterisk.
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * hotline_asterisk.h: the single input of bindgen (build.rs) and the header
 * of the C shim (hotline_asterisk.c).
 *
 * Asterisk's API is partly macros, static inline functions and varargs
 * functions. Rust calls none of those: the shim wraps each one in a plain C
 * function declared below. Real functions (ast_answer, ast_read, ...) are
 * bound directly by bindgen from the headers included here.
 *
 * Compile definitions required (build.rs passes them to both clang/bindgen
 * and cc, as the Asterisk build system does for its own modules):
 *   -D_GNU_SOURCE -DAST_MODULE=\"app_hotline\"
 *   -DAST_MODULE_SELF_SYM=__internal_app_hotline_self
 */
#ifndef HOTLINE_ASTERISK_H
#define HOTLINE_ASTERISK_H

/* asterisk.h must come first: autoconfig.h, buildopts.h, compat.h. */
#include "asterisk.h"

#include "asterisk/module.h"
#include "asterisk/logger.h"
#include "asterisk/options.h"
#include "asterisk/channel.h"
#include "asterisk/pbx.h"
#include "asterisk/file.h"
#include "asterisk/say.h"
#include "asterisk/frame.h"
#include "asterisk/causes.h"
#include "asterisk/features.h"
#include "asterisk/musiconhold.h"
#include "asterisk/devicestate.h"
#include "asterisk/stasis.h"
#include "asterisk/manager.h"
#include "asterisk/cli.h"
#include "asterisk/format_cap.h"
#include "asterisk/format_cache.h"
#include "asterisk/astobj2.h"
#include "asterisk/speech.h"
#include "asterisk/mixmonitor.h"
#include "asterisk/audiohook.h"

/* ---- logging -------------------------------------------------------------
 * Values equal Asterisk's __LOG_* levels. */
enum hotline_log_level {
	HOTLINE_LOG_DEBUG = 0,
	HOTLINE_LOG_NOTICE = 2,
	HOTLINE_LOG_WARNING = 3,
	HOTLINE_LOG_ERROR = 4,
	/* verbose level 3 ("    -- ..."), as dialplan applications log */
	HOTLINE_LOG_VERBOSE = 5,
};

/*! Log one message. msg is printed with "%s" (never used as a format). */
void hotline_ast_log(int level, const char *file, int line, const char *func, const char *msg);
/*! Non-zero if a message at this level would be emitted now (debug: `core set
 *  debug` >= 1 for the system or this module; verbose: verbosity >= 3). */
int hotline_ast_log_enabled(int level);

/* ---- AMI ------------------------------------------------------------------ */
enum hotline_ami_kind {
	HOTLINE_AMI_CALL = 0,	/* EVENT_FLAG_CALL */
	HOTLINE_AMI_AGENT = 1,	/* EVENT_FLAG_AGENT */
};
/*! Raise an AMI event. body: preformatted "Key: Value\r\n" lines (may be
 *  empty or NULL). Returns 0 on success. */
int hotline_ami_event(int kind, const char *event, const char *body);

/* ---- AMI actions -------------------------------------------------------------
 * One handler for every Hotline action (HotlineQueueAdd, ...): it passes the
 * message's "Name: value" header lines to fn, which returns a string that
 * starts with '+' (Response: Success) or '-' (Response: Error), then the
 * Message: text; NULL is an internal error. free_fn frees it. */
typedef char *(*hotline_ami_action_fn)(int n, const char *const *headers);
typedef void (*hotline_ami_free_fn)(char *text);
/*! ast_manager_register2() each of names[i] (EVENT_FLAG_AGENT, with
 *  synopses[i]; both must outlive the registration). 0 on success; on
 *  failure nothing stays registered. */
int hotline_ami_register(const char *const *names, const char *const *synopses, int n,
	hotline_ami_action_fn fn, hotline_ami_free_fn free_fn);
/*! Unregister every action hotline_ami_register() registered. */
void hotline_ami_unregister(void);

/* ---- dialplan applications ------------------------------------------------- */
typedef int (*hotline_app_exec)(struct ast_channel *chan, const char *data);
/*! ast_register_application2() on behalf of this module. 0 on success. */
int hotline_register_app(const char *name, hotline_app_exec exec,
	const char *synopsis, const char *description);
int hotline_unregister_app(const char *name);

/* ---- CLI -------------------------------------------------------------------
 * Registers "hotline show queues|agents|calls", "hotline agent",
 * "hotline queue", "hotline reload", "hotline stats". Every one calls the Rust function
 * hotline_cli() below with the full argv. */
int hotline_cli_register(void);
int hotline_cli_unregister(void);

/* ---- frames, music on hold, channels ---------------------------------------- */
void hotline_frfree(struct ast_frame *frame);
/* ---- IVR primitives (the caller's own thread) ---- */
/*! Play a sound file in the channel's language; with barge, any key ends it.
 *  Returns the key pressed (> 0), 0 when the file ended (or is missing),
 *  -1 when the channel hung up. */
int hotline_ivr_play(struct ast_channel *chan, const char *file, int barge);
/*! Say digits (barge: a key ends it); same returns as hotline_ivr_play. */
int hotline_ivr_say_digits(struct ast_channel *chan, const char *digits, int barge);
/*! Say a number; same returns as hotline_ivr_play. */
int hotline_ivr_say_number(struct ast_channel *chan, int number, int barge);
/*! Say the date of Unix time t (weekday, month, day, year; read in UTC);
 *  same returns as hotline_ivr_play. */
int hotline_ivr_say_date(struct ast_channel *chan, long long t, int barge);
/*! Say an amount ("12.50") with the language's currency; same returns as
 *  hotline_ivr_play. */
int hotline_ivr_say_money(struct ast_channel *chan, const char *amount, int barge);
/*! Wait up to ms for a key: the key (> 0), 0 on timeout, -1 on hang-up. */
int hotline_ivr_read_digit(struct ast_channel *chan, int ms);
/*! Set the channel's language (locked). */
void hotline_ivr_set_language(struct ast_channel *chan, const char *lang);
/*! Goto-style jump: "[[context,]exten,]priority" or "exten" (priority 1 of
 *  the current context). 0 on success. */
int hotline_ivr_goto(struct ast_channel *chan, const char *target);
/*! Record the caller into <file>.wav (file: absolute, no extension) after a
 *  beep if beep: until '#', max_sec, maxsilence_ms of silence (0: none) or a
 *  hang-up. *ms: the length of the file written (0: none). Returns 1 if the
 *  caller hung up, 0 otherwise. */
int hotline_ivr_record(struct ast_channel *chan, const char *file, int max_sec, int maxsilence_ms, int beep, long *ms);
/*! Listen through the PBX speech API (engine by name, inline grammar
 *  "a|b|c") up to timeout_ms for speech or a key. The nprompts files of
 *  prompts play first while it listens: a key or the caller's voice stops
 *  them (barge-in), and the timeout runs from their end. Returns the key (> 0),
 *  0 when nothing was said, -1 on hang-up, -2 when the engine is missing or
 *  failed, -3 with text (and *score, 0-100) filled when words were heard. */
int hotline_ivr_listen(struct ast_channel *chan, const char *engine, const char *grammar, int timeout_ms,
	const char *const *prompts, size_t nprompts, char *text, size_t len, int *score);

/* ---- Hotline's speech engine (res_speech) ------------------------------------
 * Registered as "hotline" when the Rust side has an engine; every callback
 * goes to the Rust functions below, handle = speech->data. */
int hotline_speech_register(void);
void hotline_speech_unregister(void);
/*! Called by the decoder thread (through the Rust notify) once a result is
 *  ready: moves the speech to DONE under its lock. */
void hotline_speech_ready(struct ast_speech *speech);
int hotline_moh_start(struct ast_channel *chan, const char *mclass);
void hotline_moh_stop(struct ast_channel *chan);
void hotline_channel_lock(struct ast_channel *chan);
void hotline_channel_unlock(struct ast_channel *chan);
/*! ast_channel_ref(): returns chan. */
struct ast_channel *hotline_channel_ref(struct ast_channel *chan);
/*! ast_channel_unref(): always returns NULL. */
struct ast_channel *hotline_channel_unref(struct ast_channel *chan);
/*! Copy the caller id number (channel locked while reading) into buf;
 *  returns its length, 0 (and "") if none. */
int hotline_channel_caller_number(struct ast_channel *chan, char *buf, int len);
/*! The same for the caller id name (UTF-8 as the channel has it). */
int hotline_channel_caller_name(struct ast_channel *chan, char *buf, int len);
/*! Make an agent leg look like a queue call (as app_queue does): the
 *  agent's phone shows the caller (connected line from the caller's caller
 *  id), and the leg inherits the caller's inheritable variables, datastores
 *  and account code. Both channels are locked meanwhile. */
void hotline_leg_from_caller(struct ast_channel *leg, struct ast_channel *caller);
/*! Wake the thread waiting on a channel (found again by name, checked
 *  against its unique id, else by unique id): queue a null frame on it,
 *  whose alert ends its ast_waitfor(); the frame reads as nothing. From any
 *  thread; holds no channel after it returns. 0 if the channel was found. */
int hotline_wake_channel(const char *name, const char *uniqueid);
/* Mute (1) or unmute (0) the MixMonitor on the channel of that name or
 * unique id: 0 done, -1 no such channel, -2 no MixMonitor on it. */
int hotline_record_mute(const char *name_or_uniqueid, int mute);
/*! What hotline_play_to_leg() says. */
enum hotline_leg_prompt {
	HOTLINE_PROMPT_FILE = 0,		/* the file */
	HOTLINE_PROMPT_FILE_OR_SPELL = 1,	/* the file if it exists, else text spelled */
	HOTLINE_PROMPT_DIGITS = 2,		/* text as digits */
	HOTLINE_PROMPT_SPELL = 3,		/* text spelled */
};
/*! Play to an answered agent leg that is not bridged yet, in the leg's
 *  language, while the caller is under autoservice (its music on hold goes
 *  on). Returns 0 when played, 1 if the leg hung up, 2 if the caller did. */
int hotline_play_to_leg(struct ast_channel *leg, struct ast_channel *caller, int kind, const char *file, const char *text);
/*! Ask the phone behind a new, not yet called PJSIP leg to answer by itself:
 *  the Call-Info (answer-after=0) and Alert-Info (alert-autoanswer) headers
 *  on its INVITE, through PJSIP_HEADER(add,...). 0 on success. */
int hotline_pjsip_auto_answer(struct ast_channel *leg);
/*! 1 if a channel with this name or unique id exists, else 0. */
int hotline_channel_exists(const char *name_or_uniqueid);
/* 1 if the channel's only hang-up request is Asterisk's "module unloading"
 * one (module unload -f hangs up the module's users before asking the module
 * to unload), which is then withdrawn; 0 otherwise (nothing changed). */
int hotline_withdraw_unload_hangup(struct ast_channel *chan);
/*! Called for each channel variable whose name starts with the prefix. */
typedef void (*hotline_var_cb)(void *user, const char *name, const char *value);
/*! Every variable of chan whose name starts with prefix (case-insensitive),
 *  with the channel locked (cb must not call back into Asterisk). */
void hotline_channel_vars(struct ast_channel *chan, const char *prefix, hotline_var_cb cb, void *user);
/*! A new capability set with ulaw, alaw, slin (for ast_request without a
 *  requestor). Release with hotline_format_cap_release(). NULL on failure. */
struct ast_format_cap *hotline_format_cap_default(void);
/*! Asterisk's variable-data directory (asterisk.conf astvarlibdir, e.g.
 *  /var/lib/asterisk), where it keeps its own state. */
const char *hotline_ast_var_dir(void);
/*! Asterisk's data directory (asterisk.conf astdatadir, e.g.
 *  /usr/share/asterisk), whose sounds/ holds the sound files. */
const char *hotline_ast_data_dir(void);
void hotline_format_cap_release(struct ast_format_cap *cap);

/* ---- device state ----------------------------------------------------------
 * One subscription to ast_device_state_topic_all(), aggregate states only
 * (eid == NULL). The callback runs on the subscription's stasis thread. */
typedef void (*hotline_devstate_cb)(const char *device, int state);
int hotline_devstate_subscribe(hotline_devstate_cb cb);
/*! Blocks until the last callback has returned (stasis_unsubscribe_and_join). */
void hotline_devstate_unsubscribe(void);
/*! The current aggregate state of a device (ast_device_state(); the
 *  function shares its name with the enum, so Rust calls it through here). */
int hotline_device_state_now(const char *device);

/* ---- this module -------------------------------------------------------------- */
struct ast_module *hotline_module_self(void);
void hotline_module_ref(void);
void hotline_module_unref(void);

/* ---- implemented in Rust (src/asterisk/module.rs, src/asterisk/cli.rs) ----- */
/*! enum ast_module_load_result: 0 success, 1 decline, -1 failure. */
int hotline_ast_load(void);
int hotline_ast_unload(void);
int hotline_ast_reload(void);
/*! Run a "hotline ..." CLI command. Returns text to print (free with
 *  hotline_cli_free) or NULL for "show usage". */
char *hotline_cli(int argc, const char * const *argv, int fd);
/* Speech engine callbacks (src/asterisk/speech.rs). */
void *hotline_speech_create(int rate);
void hotline_speech_destroy(void *h);
int hotline_speech_load(void *h, const char *name, const char *grammar);
int hotline_speech_unload(void *h, const char *name);
int hotline_speech_activate(void *h, const char *name, int on);
/*! A new utterance; speech: where to report the result. */
int hotline_speech_start(void *h, struct ast_speech *speech);
/*! Audio (signed linear): 0 quiet, 1 speaking, 2 decoding, 3 done, -1 error. */
int hotline_speech_write(void *h, const void *data, int len);
/*! The result's text into buf and *score: 1 if there is one. */
int hotline_speech_result(void *h, char *buf, size_t len, int *score, char *grammar, size_t glen);
void hotline_cli_free(char *text);

#endif /* HOTLINE_ASTERISK_H */
