/*
 * Hotline — call-center module for FreeSWITCH.
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * hotline_freeswitch.h: the single input of bindgen (build.rs, feature
 * "freeswitch") and the header of the C shim (hotline_freeswitch.c).
 *
 * FreeSWITCH's API is partly macros (switch_channel_answer,
 * switch_channel_get_variable, switch_core_session_locate, SWITCH_ADD_APP,
 * SWITCH_ADD_API...) and varargs functions (switch_log_printf,
 * stream->write_function). Rust calls none of those: the shim wraps each
 * one in a plain C function declared below, with simple argument types, so
 * the Rust side binds little more than opaque handles.
 *
 * The module's function table (mod_hotline_module_interface) is a Rust
 * #[no_mangle] static (src/freeswitch/module.rs): a global defined here in
 * C would stay hidden inside the cdylib.
 */
#ifndef HOTLINE_FREESWITCH_H
#define HOTLINE_FREESWITCH_H

#include <switch.h>

/* ---- logging -------------------------------------------------------------
 * Levels are FreeSWITCH's switch_log_level_t values. */
enum hotline_fs_log_level {
	HOTLINE_FS_LOG_ERROR = 3,
	HOTLINE_FS_LOG_WARNING = 4,
	HOTLINE_FS_LOG_NOTICE = 5,
	HOTLINE_FS_LOG_INFO = 6,
	HOTLINE_FS_LOG_DEBUG = 7,
};

/*! Log one message (printed with "%s", never used as a format). uuid: NULL,
 *  or the call's UUID so that the line is tagged with it (uuid filters of
 *  fs_cli, per-call log files). */
void hotline_fs_log(int level, const char *file, int line, const char *func, const char *uuid, const char *msg);

/*! SWITCH_GLOBAL_dirs.conf_dir (NULL if unset). */
const char *hotline_fs_conf_dir(void);
/* FreeSWITCH's database directory (where it keeps its own SQLite files). */
const char *hotline_fs_db_dir(void);

/* ---- module interface ---------------------------------------------------- */
/*! switch_loadable_module_create_module_interface(); stores it in *mi. */
int hotline_fs_module_create(switch_loadable_module_interface_t **mi, switch_memory_pool_t *pool, const char *name);
/*! SWITCH_ADD_APP. The strings must outlive the module (Rust statics). */
int hotline_fs_add_app(switch_loadable_module_interface_t **mi, const char *name, const char *short_desc,
	const char *long_desc, const char *syntax, switch_application_function_t function);
/*! SWITCH_ADD_API. */
int hotline_fs_add_api(switch_loadable_module_interface_t **mi, const char *name, const char *desc,
	const char *syntax, switch_api_function_t function);
/*! stream->write_function(stream, "%s", text). */
void hotline_fs_stream_write(switch_stream_handle_t *stream, const char *text);

/* ---- events -------------------------------------------------------------- */
/*! switch_event_reserve_subclass / switch_event_free_subclass. */
int hotline_fs_reserve_subclass(const char *subclass);
void hotline_fs_free_subclass(const char *subclass);
/*! Fire a CUSTOM event of this subclass with n headers (names[i]: values[i]). */
int hotline_fs_fire_custom(const char *subclass, const char *const *names, const char *const *values, int n);

/*! Called, in the session's own thread as it enters CS_HANGUP, for every
 *  session whose channel has the variable
 *  hotline_offer set (an agent leg of ours): its values of hotline_offer,
 *  hotline_agent_id and hotline_callback (NULL unless the leg is the agent
 *  side of an ACD callback), the Q.850 hangup cause, and whether it was
 *  answered. */
typedef void (*hotline_fs_leg_hangup_cb)(const char *offer, const char *agent_id, const char *callback, int cause,
	int answered);
/*! Install the hang-up handler (a global state handler,
 *  switch_core_add_state_handler). */
int hotline_fs_bind_leg_hangup(hotline_fs_leg_hangup_cb cb);
/*! Remove it (and the device callback); returns once no callback runs any
 *  more. */
void hotline_fs_unbind_leg_hangup(void);
/*! Called in every session's own thread as it enters CS_INIT (up = 1) and
 *  CS_HANGUP (up = 0), with its channel name and its caller profile's
 *  destination number and context (NULL if none): device tracking. The
 *  session is valid for the call only. Runs from the state handler that
 *  hotline_fs_bind_leg_hangup installs. */
typedef void (*hotline_fs_device_cb)(switch_core_session_t *session, const char *name, const char *destination,
	const char *context, int up);
void hotline_fs_bind_devices(hotline_fs_device_cb cb);

/* ---- the caller's session (its own thread only) -------------------------- */
const char *hotline_fs_session_uuid(switch_core_session_t *session);
/*! A copy of a channel variable from the session's pool, NULL if unset. */
const char *hotline_fs_get_var(switch_core_session_t *session, const char *name);
/*! Set (value NULL: unset) a channel variable. */
void hotline_fs_set_var(switch_core_session_t *session, const char *name, const char *value);
/* Called for each channel variable whose name starts with the prefix. */
typedef void (*hotline_fs_var_cb)(void *user, const char *name, const char *value);
/* Every variable of the session's channel whose name starts with prefix
 * (case-insensitive); cb must not call back into FreeSWITCH. */
void hotline_fs_channel_vars(switch_core_session_t *session, const char *prefix, hotline_fs_var_cb cb, void *user);
/*! switch_channel_answer(); 0 on success. */
int hotline_fs_answer(switch_core_session_t *session);
/*! switch_channel_ready(): up, not hung up. */
int hotline_fs_ready(switch_core_session_t *session);
/*! CF_TRANSFER is set (the channel was transferred elsewhere). */
int hotline_fs_transferred(switch_core_session_t *session);
/* Record the session (both directions) into file while it lasts;
 * stereo: caller left, the other side right. 0 on success. */
int hotline_fs_record_start(switch_core_session_t *session, const char *file, int stereo);
/* Stop the recording into file (nothing if there is none). */
void hotline_fs_record_stop(switch_core_session_t *session, const char *file);
/* Mask (1) or unmask (0) the recording into file on session uuid (found
 * again and released): 0 done, -1 no such session, -2 no such recording. */
int hotline_fs_record_mask(const char *uuid, const char *file, int mask);
/*! Clear CF_BREAK (a wake-up that arrived while nobody waited). */
void hotline_fs_clear_break(switch_core_session_t *session);
/*! The hangup cause (Q.850) of the channel, 0 if none yet. */
int hotline_fs_cause(switch_core_session_t *session);
/*! switch_channel_hangup(). */
void hotline_fs_hangup(switch_core_session_t *session, int cause);

/*! DTMF seen while playing: digit as a character. */
typedef void (*hotline_fs_dtmf_cb)(void *user, char digit);
/*! switch_ivr_play_file() with an input callback that forwards DTMF to cb
 *  (may be NULL). Returns 0 when the file ended, 1 when interrupted by
 *  CF_BREAK (a wake-up), -1 when the channel went down or the file could not
 *  be played. */
int hotline_fs_play(switch_core_session_t *session, const char *file, hotline_fs_dtmf_cb cb, void *user);
/*! switch_ivr_sleep() (no media of our own: the fallback when no music can be
 *  played) with the same input callback and return values as
 *  hotline_fs_play; 0 when ms elapsed. */
int hotline_fs_sleep(switch_core_session_t *session, unsigned ms, hotline_fs_dtmf_cb cb, void *user);
/*! IVR: play a file; with barge, the first key ends it and is returned.
 *  Returns the key (> 0), 0 when the file ended (or could not be played),
 *  -1 when the channel went down. */
int hotline_fs_ivr_play(switch_core_session_t *session, const char *file, int barge);
/*! IVR: switch_ivr_say with the same barge and returns as hotline_fs_ivr_play. */
int hotline_fs_ivr_say(switch_core_session_t *session, const char *text, const char *type, const char *method, int barge);
/*! IVR: wait up to ms for one key: the key (> 0), 0 on timeout, -1 when down. */
int hotline_fs_ivr_read_digit(switch_core_session_t *session, unsigned ms);
/*! Transfer the session to "exten [dialplan [context]]" (as the transfer
 *  application does). 0 on success. */
int hotline_fs_ivr_transfer(switch_core_session_t *session, const char *target);
/*! IVR: record the caller into <file>.wav (file: absolute, no extension)
 *  after a beep if beep, until a key, max_sec, silence_sec of silence (0:
 *  none) or a hang-up. *ms: the length recorded (record_ms). Returns 1 if
 *  the caller hung up, 0 otherwise. */
int hotline_fs_ivr_record(switch_core_session_t *session, const char *file, unsigned max_sec, unsigned silence_sec, int beep, long *ms);
/*! IVR: listen for the phrases of `grammar` (a|b|c) through FreeSWITCH's
 *  speech API (switch_ivr_detect_speech with engine `engine`), no-input
 *  after `ms`; a key is taken alongside. The `nprompts` files of `prompts`
 *  play first while it listens: a key or the caller's voice stops them
 *  (barge-in), and the no-input timer starts when they end. Returns the key (> 0), 0 (nothing),
 *  -1 (hung up), -2 (no such engine, or it failed), -3 (a result: its NLSML
 *  copied into text, NUL-terminated). */
int hotline_fs_ivr_listen(switch_core_session_t *session, const char *engine, const char *grammar, unsigned ms, const char *const *prompts, size_t nprompts, char *text, size_t len);

/* ---- speech engine (ASR interface) ----------------------------------------
 * Hotline's recognizer registered as an ASR interface: each callback of
 * switch_asr_interface_t lands in a C trampoline here that calls the Rust
 * function below with the handle's id (ah->private_info holds an id, never
 * a pointer to Rust memory: a late call after close finds nothing). */
struct hotline_fs_asr {
	/*! A new handle for audio at `rate` (8000 or 16000); 0: refused. */
	uint64_t (*open)(uint32_t rate);
	void (*close)(uint64_t id);
	int (*load_grammar)(uint64_t id, const char *grammar, const char *name);
	int (*unload_grammar)(uint64_t id, const char *name);
	/*! on: 1 enable, 0 disable; name NULL: every grammar. */
	int (*enable_grammar)(uint64_t id, const char *name, int on);
	int (*feed)(uint64_t id, const int16_t *samples, size_t count);
	void (*pause)(uint64_t id, int paused);
	/*! 1: a report waits. */
	int (*check)(uint64_t id);
	/*! The next report: 1 final (NLSML in buf), 2 begin-speaking, 0 none. */
	int (*results)(uint64_t id, char *buf, size_t len);
	void (*start_timers)(uint64_t id);
	void (*param)(uint64_t id, const char *name, const char *value);
};
/*! Create the ASR interface `name` in the module interface; the table must
 *  outlive the module (a Rust static). */
int hotline_fs_add_asr(switch_loadable_module_interface_t **mi, const char *name, const struct hotline_fs_asr *table);
/*! switch_ivr_say(session, text, NULL, type, method, NULL, NULL). */
int hotline_fs_say(switch_core_session_t *session, const char *text, const char *type, const char *method);

/*! switch_ivr_originate() with this session as the originator (NULL: none,
 *  from any thread: a call the module places itself). On success
 *  (0) *bleg is the answered leg, READ-LOCKED: hand it to hotline_fs_bridge
 *  which unlocks it. On failure (-1) *cause is the Q.850 cause. */
int hotline_fs_originate(switch_core_session_t *session, const char *dial, unsigned timeout_sec,
	const char *const *var_names, const char *const *var_values, int nvars,
	switch_core_session_t **bleg, int *cause);
/*! Both originate wrappers take nvars originate variables (var_names[i] =
 *  var_values[i], set on every leg as channel variables, never pasted into
 *  the dial string: switch_ivr_originate's ovars). */
/*! hotline_fs_originate with no originator, cancellable from another thread:
 *  originate gives up (hanging up every leg) once *cancel (a
 *  switch_call_cause_t; 0 = go on) is set non-zero. */
int hotline_fs_originate_cancellable(const char *dial, unsigned timeout_sec, const unsigned *cancel,
	const char *const *var_names, const char *const *var_values, int nvars,
	switch_core_session_t **bleg, int *cause);
/*! The value of a variable of the answered leg (copy from its pool). */
const char *hotline_fs_leg_var(switch_core_session_t *bleg, const char *name);
/*! switch_ivr_multi_threaded_bridge(session, bleg) until one side hangs up,
 *  then switch_core_session_rwunlock(bleg). Returns the switch_status_t. */
int hotline_fs_bridge(switch_core_session_t *session, switch_core_session_t *bleg);

/*! Hang up an answered leg we will not bridge, then unlock it. */
void hotline_fs_leg_hangup(switch_core_session_t *bleg, int cause);
/*! switch_core_session_rwunlock() of a leg we hand on by UUID. */
void hotline_fs_leg_unlock(switch_core_session_t *bleg);

/*! Hand an answered leg (read-locked, from hotline_fs_originate with no
 *  originator) to its own thread to run the dialplan application app(arg),
 *  as the originate API's "&app(arg)" does, then unlock it. */
void hotline_fs_leg_execute(switch_core_session_t *bleg, const char *app, const char *arg);

/* ---- any thread ---------------------------------------------------------- */
/*! Locate the session by UUID, set CF_BREAK on its channel (ends
 *  switch_ivr_play_file at its next frame) and send it SWITCH_SIG_BREAK,
 *  which makes endpoints that can (sofia: RTP) return from a blocking read
 *  at once, so that next frame is now. 0 if found. */
int hotline_fs_break_uuid(const char *uuid);
/*! switch_core_session_locate(): the session READ-LOCKED (release it with
 *  hotline_fs_bridge, hotline_fs_leg_hangup or hotline_fs_leg_unlock), or
 *  NULL if there is none. */
switch_core_session_t *hotline_fs_locate(const char *uuid);
/*! Hang up the session with this UUID, if any. 0 if found. */
int hotline_fs_hangup_uuid(const char *uuid, int cause);
/*! Where the session with this UUID is: -1 gone or hanging up, 0 up,
 *  1 up but transferred elsewhere (CF_TRANSFER). */
int hotline_fs_uuid_state(const char *uuid);

#endif /* HOTLINE_FREESWITCH_H */
