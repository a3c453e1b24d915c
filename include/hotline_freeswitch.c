/*
 * Hotline — call-center module for FreeSWITCH.
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * hotline_freeswitch.c: plain C wrappers for FreeSWITCH macros and varargs
 * functions (see hotline_freeswitch.h). Compiled by build.rs into a static
 * library; the linker keeps what Rust calls. Nothing here keeps state except
 * the CHANNEL_HANGUP binding's callback pointer.
 */
#include <strings.h>

#include "hotline_freeswitch.h"

/* ---- logging ---------------------------------------------------------------- */

void hotline_fs_log(int level, const char *file, int line, const char *func, const char *uuid, const char *msg)
{
	if (!msg) {
		return;
	}
	if (!file) {
		file = "hotline";
	}
	if (!func) {
		func = "";
	}
	if (uuid && *uuid) {
		switch_log_printf(SWITCH_CHANNEL_ID_LOG, file, func, line, uuid, (switch_log_level_t) level, "%s\n", msg);
	} else {
		switch_log_printf(SWITCH_CHANNEL_ID_LOG, file, func, line, NULL, (switch_log_level_t) level, "%s\n", msg);
	}
}

const char *hotline_fs_conf_dir(void)
{
	return SWITCH_GLOBAL_dirs.conf_dir;
}

void hotline_fs_channel_vars(switch_core_session_t *session, const char *prefix, hotline_fs_var_cb cb, void *user)
{
	switch_channel_t *channel = switch_core_session_get_channel(session);
	switch_event_header_t *hi;
	size_t n = strlen(prefix);

	if ((hi = switch_channel_variable_first(channel))) {
		for (; hi; hi = hi->next) {
			if (hi->name && !strncasecmp(hi->name, prefix, n)) {
				cb(user, hi->name, hi->value);
			}
		}
		switch_channel_variable_last(channel);
	}
}

const char *hotline_fs_db_dir(void)
{
	return SWITCH_GLOBAL_dirs.db_dir;
}

/* ---- module interface ---------------------------------------------------- */

int hotline_fs_module_create(switch_loadable_module_interface_t **mi, switch_memory_pool_t *pool, const char *name)
{
	*mi = switch_loadable_module_create_module_interface(pool, name);
	return *mi ? 0 : -1;
}

int hotline_fs_add_app(switch_loadable_module_interface_t **module_interface, const char *name, const char *short_desc,
	const char *long_desc, const char *syntax, switch_application_function_t function)
{
	switch_application_interface_t *app_interface = NULL;

	SWITCH_ADD_APP(app_interface, name, short_desc, long_desc, function, syntax, SAF_NONE);
	return app_interface ? 0 : -1;
}

int hotline_fs_add_api(switch_loadable_module_interface_t **module_interface, const char *name, const char *desc,
	const char *syntax, switch_api_function_t function)
{
	switch_api_interface_t *api_interface = NULL;

	SWITCH_ADD_API(api_interface, name, desc, function, syntax);
	return api_interface ? 0 : -1;
}

void hotline_fs_stream_write(switch_stream_handle_t *stream, const char *text)
{
	if (stream && stream->write_function && text) {
		stream->write_function(stream, "%s", text);
	}
}

/* ---- events -------------------------------------------------------------- */

int hotline_fs_reserve_subclass(const char *subclass)
{
	return switch_event_reserve_subclass(subclass) == SWITCH_STATUS_SUCCESS ? 0 : -1;
}

void hotline_fs_free_subclass(const char *subclass)
{
	switch_event_free_subclass(subclass);
}

int hotline_fs_fire_custom(const char *subclass, const char *const *names, const char *const *values, int n)
{
	switch_event_t *event = NULL;
	int i;

	if (switch_event_create_subclass(&event, SWITCH_EVENT_CUSTOM, subclass) != SWITCH_STATUS_SUCCESS) {
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (names[i] && values[i]) {
			switch_event_add_header_string(event, SWITCH_STACK_BOTTOM, names[i], values[i]);
		}
	}
	return switch_event_fire(&event) == SWITCH_STATUS_SUCCESS ? 0 : -1;
}

static hotline_fs_leg_hangup_cb leg_hangup_cb = NULL;
static hotline_fs_device_cb device_cb = NULL;
/* Hang-up handlers running now (unbinding waits for them). */
static int leg_hangups_running = 0;

/* Global CS_HANGUP state handler: runs in the hanging-up session's own
 * thread, as it hangs up, rather than later on an event dispatch thread. */
static void device_change(switch_core_session_t *session, int up)
{
	switch_channel_t *channel = switch_core_session_get_channel(session);
	switch_caller_profile_t *profile = switch_channel_get_caller_profile(channel);
	hotline_fs_device_cb cb = __atomic_load_n(&device_cb, __ATOMIC_SEQ_CST);

	if (cb) {
		cb(session, switch_channel_get_name(channel), profile ? profile->destination_number : NULL,
			profile ? profile->context : NULL, up);
	}
}

/* Global CS_INIT state handler: a channel starts (device tracking). */
static switch_status_t leg_on_init(switch_core_session_t *session)
{
	__atomic_add_fetch(&leg_hangups_running, 1, __ATOMIC_SEQ_CST);
	device_change(session, 1);
	__atomic_sub_fetch(&leg_hangups_running, 1, __ATOMIC_SEQ_CST);
	return SWITCH_STATUS_SUCCESS;
}

static switch_status_t leg_on_hangup(switch_core_session_t *session)
{
	switch_channel_t *channel = switch_core_session_get_channel(session);
	const char *offer, *agent;
	hotline_fs_leg_hangup_cb cb;

	__atomic_add_fetch(&leg_hangups_running, 1, __ATOMIC_SEQ_CST);
	/* The device is free before the leg's outcome is reported, so the
	 * router can offer the agent its next call at once. */
	device_change(session, 0);
	cb = __atomic_load_n(&leg_hangup_cb, __ATOMIC_SEQ_CST);
	offer = switch_channel_get_variable(channel, "hotline_offer");
	agent = switch_channel_get_variable(channel, "hotline_agent_id");
	if (cb && !zstr(offer) && !zstr(agent)) {
		cb(offer, agent, switch_channel_get_variable(channel, "hotline_callback"), (int) switch_channel_get_cause(channel),
			switch_channel_test_flag(channel, CF_ANSWERED) ? 1 : 0);
	}
	__atomic_sub_fetch(&leg_hangups_running, 1, __ATOMIC_SEQ_CST);
	return SWITCH_STATUS_SUCCESS;
}

static switch_state_handler_table_t leg_state_handlers = { .on_init = leg_on_init, .on_hangup = leg_on_hangup };

void hotline_fs_bind_devices(hotline_fs_device_cb cb)
{
	__atomic_store_n(&device_cb, cb, __ATOMIC_SEQ_CST);
}

int hotline_fs_bind_leg_hangup(hotline_fs_leg_hangup_cb cb)
{
	/* Still bound: a refused unload kept it, and load resumes. */
	if (__atomic_load_n(&leg_hangup_cb, __ATOMIC_SEQ_CST)) {
		__atomic_store_n(&leg_hangup_cb, cb, __ATOMIC_SEQ_CST);
		return 0;
	}
	__atomic_store_n(&leg_hangup_cb, cb, __ATOMIC_SEQ_CST);
	if (switch_core_add_state_handler(&leg_state_handlers) < 0) {
		__atomic_store_n(&leg_hangup_cb, NULL, __ATOMIC_SEQ_CST);
		return -1;
	}
	return 0;
}

void hotline_fs_unbind_leg_hangup(void)
{
	switch_core_remove_state_handler(&leg_state_handlers);
	__atomic_store_n(&leg_hangup_cb, NULL, __ATOMIC_SEQ_CST);
	__atomic_store_n(&device_cb, NULL, __ATOMIC_SEQ_CST);
	/* A session thread may have read the table just before: wait for it. */
	while (__atomic_load_n(&leg_hangups_running, __ATOMIC_SEQ_CST) > 0) {
		switch_yield(1000);
	}
}

/* ---- the caller's session ------------------------------------------------- */

const char *hotline_fs_session_uuid(switch_core_session_t *session)
{
	return switch_core_session_get_uuid(session);
}

const char *hotline_fs_get_var(switch_core_session_t *session, const char *name)
{
	switch_channel_t *channel = switch_core_session_get_channel(session);

	/* dup: a copy from the session's pool, stable while we read it. */
	return switch_channel_get_variable_dup(channel, name, SWITCH_TRUE, -1);
}

void hotline_fs_set_var(switch_core_session_t *session, const char *name, const char *value)
{
	switch_channel_set_variable(switch_core_session_get_channel(session), name, value);
}

int hotline_fs_answer(switch_core_session_t *session)
{
	return switch_channel_answer(switch_core_session_get_channel(session)) == SWITCH_STATUS_SUCCESS ? 0 : -1;
}

int hotline_fs_ready(switch_core_session_t *session)
{
	return switch_channel_ready(switch_core_session_get_channel(session)) ? 1 : 0;
}

int hotline_fs_transferred(switch_core_session_t *session)
{
	return switch_channel_test_flag(switch_core_session_get_channel(session), CF_TRANSFER) ? 1 : 0;
}

int hotline_fs_record_start(switch_core_session_t *session, const char *file, int stereo)
{
	switch_channel_t *channel = switch_core_session_get_channel(session);

	/* Said every time: a channel-level RECORD_STEREO left from an earlier
	 * recording would otherwise leak into this one. */
	switch_channel_set_variable(channel, "RECORD_STEREO", stereo ? "true" : "false");
	return switch_ivr_record_session(session, file, 0, NULL) == SWITCH_STATUS_SUCCESS ? 0 : -1;
}

void hotline_fs_record_stop(switch_core_session_t *session, const char *file)
{
	switch_ivr_stop_record_session(session, file);
}

void hotline_fs_clear_break(switch_core_session_t *session)
{
	switch_channel_clear_flag(switch_core_session_get_channel(session), CF_BREAK);
}

int hotline_fs_cause(switch_core_session_t *session)
{
	return (int) switch_channel_get_cause(switch_core_session_get_channel(session));
}

void hotline_fs_hangup(switch_core_session_t *session, int cause)
{
	switch_channel_hangup(switch_core_session_get_channel(session), (switch_call_cause_t) cause);
}

struct play_ctx {
	hotline_fs_dtmf_cb cb;
	void *user;
};

static switch_status_t play_input(switch_core_session_t *session, void *input, switch_input_type_t type, void *buf, unsigned int buflen)
{
	struct play_ctx *ctx = buf;

	(void) session;
	(void) buflen;
	if (type == SWITCH_INPUT_TYPE_DTMF && ctx && ctx->cb) {
		switch_dtmf_t *dtmf = (switch_dtmf_t *) input;
		ctx->cb(ctx->user, dtmf->digit);
	}
	/* Keep playing: wake-ups come as CF_BREAK, hang-ups end the playback. */
	return SWITCH_STATUS_SUCCESS;
}

static int play_result(switch_core_session_t *session, switch_status_t status)
{
	if (!switch_channel_ready(switch_core_session_get_channel(session))) {
		return -1;
	}
	switch (status) {
	case SWITCH_STATUS_SUCCESS:
		return 0;
	case SWITCH_STATUS_BREAK:
		return 1;
	default:
		return -1;
	}
}

int hotline_fs_play(switch_core_session_t *session, const char *file, hotline_fs_dtmf_cb cb, void *user)
{
	struct play_ctx ctx = { cb, user };
	switch_input_args_t args = { 0 };

	args.input_callback = play_input;
	args.buf = &ctx;
	args.buflen = sizeof(ctx);
	return play_result(session, switch_ivr_play_file(session, NULL, file, &args));
}

int hotline_fs_sleep(switch_core_session_t *session, unsigned ms, hotline_fs_dtmf_cb cb, void *user)
{
	struct play_ctx ctx = { cb, user };
	switch_input_args_t args = { 0 };

	args.input_callback = play_input;
	args.buf = &ctx;
	args.buflen = sizeof(ctx);
	return play_result(session, switch_ivr_sleep(session, ms, SWITCH_TRUE, &args));
}

/* IVR barge-in: the first key is kept and ends the playback. */
static switch_status_t ivr_input(switch_core_session_t *session, void *input, switch_input_type_t type, void *buf, unsigned int buflen)
{
	char *key = buf;

	(void) session;
	(void) buflen;
	if (type == SWITCH_INPUT_TYPE_DTMF && key) {
		switch_dtmf_t *dtmf = (switch_dtmf_t *) input;
		if (!*key) {
			*key = dtmf->digit;
		}
		return SWITCH_STATUS_BREAK;
	}
	return SWITCH_STATUS_SUCCESS;
}

static int ivr_result(switch_core_session_t *session, char key)
{
	if (!switch_channel_ready(switch_core_session_get_channel(session))) {
		return -1;
	}
	return key ? (unsigned char) key : 0;
}

/* The input arguments that keep the first key in *key and end the
 * playback (NULL without barge-in: keys are left queued). */
static switch_input_args_t *ivr_args(switch_input_args_t *args, char *key, int barge)
{
	if (!barge) {
		return NULL;
	}
	args->input_callback = ivr_input;
	args->buf = key;
	args->buflen = sizeof(*key);
	return args;
}

int hotline_fs_ivr_play(switch_core_session_t *session, const char *file, int barge)
{
	char key = 0;
	switch_input_args_t args = { 0 };

	switch_ivr_play_file(session, NULL, file, ivr_args(&args, &key, barge));
	return ivr_result(session, key);
}

int hotline_fs_ivr_say(switch_core_session_t *session, const char *text, const char *type, const char *method, int barge)
{
	char key = 0;
	switch_input_args_t args = { 0 };

	switch_ivr_say(session, text, NULL, type, method, NULL, ivr_args(&args, &key, barge));
	return ivr_result(session, key);
}

int hotline_fs_ivr_read_digit(switch_core_session_t *session, unsigned ms)
{
	char buf[2] = { 0 };
	char term = 0;

	switch_ivr_collect_digits_count(session, buf, sizeof(buf), 1, NULL, &term, ms, 0, 0);
	return ivr_result(session, buf[0]);
}

int hotline_fs_ivr_record(switch_core_session_t *session, const char *file, unsigned max_sec, unsigned silence_sec, int beep, long *ms)
{
	switch_channel_t *channel = switch_core_session_get_channel(session);
	switch_file_handle_t fh = { 0 };
	switch_input_args_t args = { 0 };
	char key = 0;
	const char *v;
	char *path;

	*ms = 0;
	if (!switch_channel_ready(channel)) {
		return 1;
	}
	if (beep) {
		switch_ivr_gentones(session, "%(250,0,800)", 0, NULL);
	}
	if (silence_sec) {
		/* The energy level under which a frame counts as silence, and
		 * the seconds of it that end the recording. */
		fh.thresh = 200;
		fh.silence_hits = silence_sec;
	}
	/* Any key ends the recording (the key is not recorded). */
	args.buf = &key;
	args.buflen = sizeof(key);
	path = switch_core_session_sprintf(session, "%s.wav", file);
	switch_channel_set_variable(channel, "record_ms", NULL);
	switch_ivr_record_file(session, &fh, path, &args, max_sec);
	if ((v = switch_channel_get_variable(channel, "record_ms"))) {
		*ms = atol(v);
	}
	return switch_channel_ready(channel) ? 0 : 1;
}

int hotline_fs_ivr_transfer(switch_core_session_t *session, const char *target)
{
	char *dup, *argv[3] = { 0 };
	int argc;
	switch_status_t st;

	dup = switch_core_session_strdup(session, target);
	argc = switch_separate_string(dup, ' ', argv, 3);
	if (argc < 1 || zstr(argv[0])) {
		return -1;
	}
	st = switch_ivr_session_transfer(session, argv[0], argc > 1 ? argv[1] : NULL, argc > 2 ? argv[2] : NULL);
	return st == SWITCH_STATUS_SUCCESS ? 0 : -1;
}

int hotline_fs_say(switch_core_session_t *session, const char *text, const char *type, const char *method)
{
	return switch_ivr_say(session, text, NULL, type, method, NULL, NULL) == SWITCH_STATUS_SUCCESS ? 0 : -1;
}

/* The originate variables as an event (NULL if none). */
static switch_event_t *originate_vars(const char *const *names, const char *const *values, int n)
{
	switch_event_t *ovars = NULL;
	int i;

	if (n <= 0 || !names || !values) {
		return NULL;
	}
	if (switch_event_create_plain(&ovars, SWITCH_EVENT_CHANNEL_DATA) != SWITCH_STATUS_SUCCESS) {
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (names[i] && values[i]) {
			switch_event_add_header_string(ovars, SWITCH_STACK_BOTTOM, names[i], values[i]);
		}
	}
	return ovars;
}

int hotline_fs_originate(switch_core_session_t *session, const char *dial, unsigned timeout_sec,
	const char *const *var_names, const char *const *var_values, int nvars,
	switch_core_session_t **bleg, int *cause)
{
	switch_call_cause_t c = SWITCH_CAUSE_NONE;
	switch_status_t status;
	switch_event_t *ovars = originate_vars(var_names, var_values, nvars);

	*bleg = NULL;
	status = switch_ivr_originate(session, bleg, &c, dial, timeout_sec, NULL, NULL, NULL, NULL, ovars, SOF_NONE, NULL, NULL);
	if (ovars) {
		switch_event_destroy(&ovars);
	}
	*cause = (int) c;
	if (status != SWITCH_STATUS_SUCCESS || !*bleg) {
		*bleg = NULL;
		return -1;
	}
	return 0;
}

int hotline_fs_originate_cancellable(const char *dial, unsigned timeout_sec, const unsigned *cancel,
	const char *const *var_names, const char *const *var_values, int nvars,
	switch_core_session_t **bleg, int *cause)
{
	switch_call_cause_t c = SWITCH_CAUSE_NONE;
	switch_status_t status;
	switch_event_t *ovars = originate_vars(var_names, var_values, nvars);

	*bleg = NULL;
	/* originate reads *cancel_cause in its ring loop and never writes it. */
	status = switch_ivr_originate(NULL, bleg, &c, dial, timeout_sec, NULL, NULL, NULL, NULL, ovars, SOF_NONE,
		(switch_call_cause_t *) cancel, NULL);
	if (ovars) {
		switch_event_destroy(&ovars);
	}
	*cause = (int) c;
	if (status != SWITCH_STATUS_SUCCESS || !*bleg) {
		*bleg = NULL;
		return -1;
	}
	return 0;
}

const char *hotline_fs_leg_var(switch_core_session_t *bleg, const char *name)
{
	return switch_channel_get_variable_dup(switch_core_session_get_channel(bleg), name, SWITCH_TRUE, -1);
}

int hotline_fs_bridge(switch_core_session_t *session, switch_core_session_t *bleg)
{
	switch_status_t status = switch_ivr_multi_threaded_bridge(session, bleg, NULL, NULL, NULL);

	switch_core_session_rwunlock(bleg);
	return (int) status;
}

void hotline_fs_leg_hangup(switch_core_session_t *bleg, int cause)
{
	switch_channel_hangup(switch_core_session_get_channel(bleg), (switch_call_cause_t) cause);
	switch_core_session_rwunlock(bleg);
}

void hotline_fs_leg_execute(switch_core_session_t *bleg, const char *app, const char *arg)
{
	switch_channel_t *channel = switch_core_session_get_channel(bleg);
	switch_caller_extension_t *extension = switch_caller_extension_new(bleg, app, arg);

	if (extension) {
		switch_caller_extension_add_application(bleg, extension, app, arg);
		switch_channel_set_caller_extension(channel, extension);
		switch_channel_set_state(channel, CS_EXECUTE);
	} else {
		switch_channel_hangup(channel, SWITCH_CAUSE_DESTINATION_OUT_OF_ORDER);
	}
	switch_core_session_rwunlock(bleg);
}

void hotline_fs_leg_unlock(switch_core_session_t *bleg)
{
	switch_core_session_rwunlock(bleg);
}

/* ---- any thread ----------------------------------------------------------- */

switch_core_session_t *hotline_fs_locate(const char *uuid)
{
	return zstr(uuid) ? NULL : switch_core_session_locate(uuid);
}

int hotline_fs_hangup_uuid(const char *uuid, int cause)
{
	switch_core_session_t *session;

	if (zstr(uuid) || !(session = switch_core_session_locate(uuid))) {
		return -1;
	}
	switch_channel_hangup(switch_core_session_get_channel(session), (switch_call_cause_t) cause);
	switch_core_session_rwunlock(session);
	return 0;
}

int hotline_fs_break_uuid(const char *uuid)
{
	switch_core_session_t *session;

	if (zstr(uuid) || !(session = switch_core_session_locate(uuid))) {
		return -1;
	}
	switch_channel_set_flag(switch_core_session_get_channel(session), CF_BREAK);
	switch_core_session_kill_channel(session, SWITCH_SIG_BREAK);
	switch_core_session_rwunlock(session);
	return 0;
}

int hotline_fs_record_mask(const char *uuid, const char *file, int mask)
{
	switch_core_session_t *session;
	switch_status_t status;

	if (zstr(uuid) || !(session = switch_core_session_locate(uuid))) {
		return -1;
	}
	/* Masked: silence written, the timeline kept. */
	status = switch_ivr_record_session_mask(session, file, mask ? SWITCH_TRUE : SWITCH_FALSE);
	switch_core_session_rwunlock(session);
	return status == SWITCH_STATUS_SUCCESS ? 0 : -2;
}

int hotline_fs_uuid_state(const char *uuid)
{
	switch_core_session_t *session;
	switch_channel_t *channel;
	int state;

	if (zstr(uuid) || !(session = switch_core_session_locate(uuid))) {
		return -1;
	}
	channel = switch_core_session_get_channel(session);
	if (!switch_channel_up_nosig(channel)) {
		state = -1;
	} else {
		state = switch_channel_test_flag(channel, CF_TRANSFER) ? 1 : 0;
	}
	switch_core_session_rwunlock(session);
	return state;
}

/* ---- speech: listening in the IVR -------------------------------------- */

struct listen_state {
	int done;    /* 1 key, 2 result, 3 closed */
	int playing; /* a prompt plays: speech starting stops it */
	int barged;  /* the caller started speaking over a prompt */
	char key;
	char *text;
	size_t len;
};

static switch_status_t listen_input(switch_core_session_t *session, void *input, switch_input_type_t type, void *buf, unsigned int buflen)
{
	struct listen_state *st = buf;
	(void) session;
	(void) buflen;
	if (st->done) {
		return SWITCH_STATUS_BREAK;
	}
	if (type == SWITCH_INPUT_TYPE_DTMF) {
		st->key = ((switch_dtmf_t *) input)->digit;
		st->done = 1;
		return SWITCH_STATUS_BREAK;
	}
	if (type == SWITCH_INPUT_TYPE_EVENT) {
		switch_event_t *event = input;
		const char *kind;
		if (event->event_id != SWITCH_EVENT_DETECTED_SPEECH || !(kind = switch_event_get_header(event, "Speech-Type"))) {
			return SWITCH_STATUS_SUCCESS;
		}
		if (!strcasecmp(kind, "detected-speech")) {
			const char *body = switch_event_get_body(event);
			switch_copy_string(st->text, body ? body : "", st->len);
			st->done = 2;
			return SWITCH_STATUS_BREAK;
		}
		if (!strcasecmp(kind, "closed")) {
			st->done = 3;
			return SWITCH_STATUS_BREAK;
		}
		if (!strcasecmp(kind, "begin-speaking") && st->playing) {
			st->barged = 1;
			return SWITCH_STATUS_BREAK;
		}
	}
	return SWITCH_STATUS_SUCCESS;
}

int hotline_fs_ivr_listen(switch_core_session_t *session, const char *engine, const char *grammar, unsigned ms, const char *const *prompts, size_t nprompts, char *text, size_t len)
{
	size_t i;
	switch_channel_t *channel = switch_core_session_get_channel(session);
	struct listen_state st = { 0 };
	switch_input_args_t args = { 0 };
	switch_time_t deadline;
	char *g;

	if (!switch_channel_ready(channel)) {
		return -1;
	}
	if (len) {
		text[0] = '\0';
	}
	st.text = text;
	st.len = len;
	/* The engine ends the listening: words, no match or no input (its
	 * timer runs from the end of the prompts). */
	g = switch_core_session_sprintf(session, "{no-input-timeout=%u,start-input-timers=%s}%s", ms, nprompts ? "false" : "true", grammar);
	if (switch_ivr_detect_speech(session, engine, g, "hotline", NULL, NULL) != SWITCH_STATUS_SUCCESS) {
		return switch_channel_ready(channel) ? -2 : -1;
	}
	args.input_callback = listen_input;
	args.buf = &st;
	args.buflen = sizeof(st);
	/* The prompts play while the engine listens: a key or the caller's
	 * voice stops them (barge-in). */
	st.playing = 1;
	for (i = 0; i < nprompts && !st.done && !st.barged && switch_channel_ready(channel); i++) {
		switch_channel_clear_flag(channel, CF_BREAK);
		switch_ivr_play_file(session, NULL, prompts[i], &args);
	}
	st.playing = 0;
	if (nprompts) {
		switch_ivr_detect_speech_start_input_timers(session);
	}
	/* A bound of our own past the engine's, should it never answer (an
	 * utterance is at most 10 s, decoding well under that). */
	deadline = switch_micro_time_now() + ((switch_time_t) ms + 25000) * 1000;
	while (!st.done && switch_channel_ready(channel) && switch_micro_time_now() < deadline) {
		switch_status_t status = switch_ivr_sleep(session, 100, SWITCH_FALSE, &args);
		if (status != SWITCH_STATUS_SUCCESS && status != SWITCH_STATUS_BREAK) {
			break;
		}
	}
	switch_ivr_stop_detect_speech(session);
	if (!switch_channel_ready(channel)) {
		return -1;
	}
	switch (st.done) {
	case 1:
		return (unsigned char) st.key;
	case 2:
		return -3;
	case 3:
		return -2;
	default:
		return 0;
	}
}

/* ---- speech: the ASR interface ------------------------------------------- */

static const struct hotline_fs_asr *asr_table;

#define ASR_ID(ah) ((uint64_t) (uintptr_t) (ah)->private_info)

static switch_status_t asr_open(switch_asr_handle_t *ah, const char *codec, int rate, const char *dest, switch_asr_flag_t *flags)
{
	uint64_t id;
	uint32_t want = rate == 8000 ? 8000 : 16000;
	(void) dest;
	(void) flags;
	if (codec && strcasecmp(codec, "L16")) {
		switch_log_printf(SWITCH_CHANNEL_LOG, SWITCH_LOG_ERROR, "Hotline speech: codec %s is not taken (L16)\n", codec);
		return SWITCH_STATUS_FALSE;
	}
	if (!(id = asr_table->open(want))) {
		return SWITCH_STATUS_FALSE;
	}
	/* FreeSWITCH resamples what it feeds from samplerate to native_rate. */
	ah->native_rate = want;
	ah->private_info = (void *) (uintptr_t) id;
	return SWITCH_STATUS_SUCCESS;
}

static switch_status_t asr_close(switch_asr_handle_t *ah, switch_asr_flag_t *flags)
{
	(void) flags;
	asr_table->close(ASR_ID(ah));
	ah->private_info = NULL;
	return SWITCH_STATUS_SUCCESS;
}

static switch_status_t asr_load_grammar(switch_asr_handle_t *ah, const char *grammar, const char *name)
{
	return asr_table->load_grammar(ASR_ID(ah), grammar, name) == 0 ? SWITCH_STATUS_SUCCESS : SWITCH_STATUS_FALSE;
}

static switch_status_t asr_unload_grammar(switch_asr_handle_t *ah, const char *name)
{
	return asr_table->unload_grammar(ASR_ID(ah), name) == 0 ? SWITCH_STATUS_SUCCESS : SWITCH_STATUS_FALSE;
}

static switch_status_t asr_enable_grammar(switch_asr_handle_t *ah, const char *name)
{
	return asr_table->enable_grammar(ASR_ID(ah), name, 1) == 0 ? SWITCH_STATUS_SUCCESS : SWITCH_STATUS_FALSE;
}

static switch_status_t asr_disable_grammar(switch_asr_handle_t *ah, const char *name)
{
	return asr_table->enable_grammar(ASR_ID(ah), name, 0) == 0 ? SWITCH_STATUS_SUCCESS : SWITCH_STATUS_FALSE;
}

static switch_status_t asr_disable_all_grammars(switch_asr_handle_t *ah)
{
	return asr_table->enable_grammar(ASR_ID(ah), NULL, 0) == 0 ? SWITCH_STATUS_SUCCESS : SWITCH_STATUS_FALSE;
}

static switch_status_t asr_feed(switch_asr_handle_t *ah, void *data, unsigned int len, switch_asr_flag_t *flags)
{
	(void) flags;
	return asr_table->feed(ASR_ID(ah), data, len / 2) == 0 ? SWITCH_STATUS_SUCCESS : SWITCH_STATUS_FALSE;
}

static switch_status_t asr_pause(switch_asr_handle_t *ah)
{
	asr_table->pause(ASR_ID(ah), 1);
	return SWITCH_STATUS_SUCCESS;
}

static switch_status_t asr_resume(switch_asr_handle_t *ah)
{
	asr_table->pause(ASR_ID(ah), 0);
	return SWITCH_STATUS_SUCCESS;
}

static switch_status_t asr_check_results(switch_asr_handle_t *ah, switch_asr_flag_t *flags)
{
	(void) flags;
	return asr_table->check(ASR_ID(ah)) ? SWITCH_STATUS_SUCCESS : SWITCH_STATUS_FALSE;
}

/* SUCCESS: a result (detected-speech); BREAK: begin-speaking (barge-in).
 * FreeSWITCH frees *xmlstr with free(). */
static switch_status_t asr_get_results(switch_asr_handle_t *ah, char **xmlstr, switch_asr_flag_t *flags)
{
	char buf[4096];
	(void) flags;
	switch (asr_table->results(ASR_ID(ah), buf, sizeof(buf))) {
	case 1:
		*xmlstr = strdup(buf);
		return *xmlstr ? SWITCH_STATUS_SUCCESS : SWITCH_STATUS_MEMERR;
	case 2:
		*xmlstr = NULL;
		return SWITCH_STATUS_BREAK;
	default:
		return SWITCH_STATUS_FALSE;
	}
}

static switch_status_t asr_start_input_timers(switch_asr_handle_t *ah)
{
	asr_table->start_timers(ASR_ID(ah));
	return SWITCH_STATUS_SUCCESS;
}

static void asr_text_param(switch_asr_handle_t *ah, char *param, const char *val)
{
	if (param && val) {
		asr_table->param(ASR_ID(ah), param, val);
	}
}

static void asr_numeric_param(switch_asr_handle_t *ah, char *param, int val)
{
	char v[32];
	switch_snprintf(v, sizeof(v), "%d", val);
	asr_text_param(ah, param, v);
}

static void asr_float_param(switch_asr_handle_t *ah, char *param, double val)
{
	char v[64];
	switch_snprintf(v, sizeof(v), "%f", val);
	asr_text_param(ah, param, v);
}

int hotline_fs_add_asr(switch_loadable_module_interface_t **mi, const char *name, const struct hotline_fs_asr *table)
{
	switch_asr_interface_t *asr = switch_loadable_module_create_interface(*mi, SWITCH_ASR_INTERFACE);
	if (!asr) {
		return -1;
	}
	asr_table = table;
	asr->interface_name = name;
	asr->asr_open = asr_open;
	asr->asr_load_grammar = asr_load_grammar;
	asr->asr_unload_grammar = asr_unload_grammar;
	asr->asr_close = asr_close;
	asr->asr_feed = asr_feed;
	asr->asr_resume = asr_resume;
	asr->asr_pause = asr_pause;
	asr->asr_check_results = asr_check_results;
	asr->asr_get_results = asr_get_results;
	asr->asr_start_input_timers = asr_start_input_timers;
	asr->asr_text_param = asr_text_param;
	asr->asr_numeric_param = asr_numeric_param;
	asr->asr_float_param = asr_float_param;
	asr->asr_enable_grammar = asr_enable_grammar;
	asr->asr_disable_grammar = asr_disable_grammar;
	asr->asr_disable_all_grammars = asr_disable_all_grammars;
	return 0;
}
