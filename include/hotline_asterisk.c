/*
 * Hotline — call-center module for Asterisk.
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * hotline_asterisk.c: the C side of app_hotline.so.
 *
 * - Plain C wrappers for Asterisk macros, static inline and varargs
 *   functions, so that Rust never calls any of those.
 * - AST_MODULE_INFO: the module descriptor and the constructor that
 *   registers it with the loader during dlopen(), with load/unload/reload
 *   forwarding to Rust (src/asterisk/module.rs).
 */
#include <strings.h>
#include <sys/stat.h>
#include <limits.h>

#include "hotline_asterisk.h"
#include "asterisk/paths.h"
#include "asterisk/app.h"
#include "asterisk/sched.h"

/*
 * The file is compiled twice by build.rs:
 * - without HOTLINE_MODULE_DESCRIPTOR: the wrappers, in a static library
 *   linked into everything that links the crate (cdylib, tests, binaries);
 *   the linker takes only what Rust calls.
 * - with HOTLINE_MODULE_DESCRIPTOR: only AST_MODULE_INFO (the module
 *   descriptor and its constructor) and the load/unload/reload forwarders,
 *   as an object file passed to the linker of the cdylib ONLY (so it is kept
 *   whole, constructor included). Test and tool executables never get it:
 *   they must not register an Asterisk module at startup, nor need
 *   Asterisk's symbols to link.
 */
#ifndef HOTLINE_MODULE_DESCRIPTOR

/* ---- logging ---------------------------------------------------------------- */

void hotline_ast_log(int level, const char *file, int line, const char *func, const char *msg)
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
	switch (level) {
	case HOTLINE_LOG_DEBUG:
		if (DEBUG_ATLEAST(1)) {
			ast_log(__LOG_DEBUG, file, line, func, "%s\n", msg);
		}
		break;
	case HOTLINE_LOG_NOTICE:
	case HOTLINE_LOG_WARNING:
	case HOTLINE_LOG_ERROR:
		ast_log(level, file, line, func, "%s\n", msg);
		break;
	case HOTLINE_LOG_VERBOSE:
	default:
		if (VERBOSITY_ATLEAST(3)) {
			__ast_verbose(file, line, func, 3, "%s\n", msg);
		}
		break;
	}
}

int hotline_ast_log_enabled(int level)
{
	switch (level) {
	case HOTLINE_LOG_DEBUG:
		return DEBUG_ATLEAST(1) ? 1 : 0;
	case HOTLINE_LOG_VERBOSE:
		return VERBOSITY_ATLEAST(3) ? 1 : 0;
	default:
		return 1;
	}
}

/* ---- AMI -------------------------------------------------------------------- */

int hotline_ami_event(int kind, const char *event, const char *body)
{
	int category = kind == HOTLINE_AMI_AGENT ? EVENT_FLAG_AGENT : EVENT_FLAG_CALL;

	if (!event) {
		return -1;
	}
	return manager_event(category, event, "%s", body ? body : "");
}

/* ---- AMI actions ------------------------------------------------------------ */

#define HOTLINE_AMI_MAX 16
static const char *ami_names[HOTLINE_AMI_MAX];
static int ami_count;
static hotline_ami_action_fn ami_fn;
static hotline_ami_free_fn ami_free_fn;

static int ami_handler(struct mansession *s, const struct message *m)
{
	hotline_ami_action_fn fn = ami_fn;
	char *text;

	if (!fn) {
		astman_send_error(s, m, "Hotline is not running");
		return 0;
	}
	text = fn((int) m->hdrcount, (const char *const *) m->headers);
	if (!text) {
		astman_send_error(s, m, "Hotline is not running, is unloading, or failed (see the log)");
		return 0;
	}
	if (text[0] == '+') {
		astman_send_ack(s, m, text + 1);
	} else {
		astman_send_error(s, m, text[0] == '-' ? text + 1 : text);
	}
	ami_free_fn(text);
	return 0;
}

int hotline_ami_register(const char *const *names, const char *const *synopses, int n,
	hotline_ami_action_fn fn, hotline_ami_free_fn free_fn)
{
	int i;

	if (!fn || !free_fn || n < 0 || n > HOTLINE_AMI_MAX || ami_count) {
		return -1;
	}
	ami_fn = fn;
	ami_free_fn = free_fn;
	for (i = 0; i < n; i++) {
		/* The manager keeps the action's name pointer: ours are static. */
		if (ast_manager_register2(names[i], EVENT_FLAG_AGENT, ami_handler, AST_MODULE_SELF, synopses[i], NULL)) {
			hotline_ami_unregister();
			return -1;
		}
		ami_names[ami_count++] = names[i];
	}
	return 0;
}

void hotline_ami_unregister(void)
{
	while (ami_count > 0) {
		ast_manager_unregister(ami_names[--ami_count]);
	}
	ami_fn = NULL;
}

/* ---- applications ----------------------------------------------------------- */

int hotline_register_app(const char *name, hotline_app_exec exec,
	const char *synopsis, const char *description)
{
	/* The macro passes AST_MODULE_SELF: the app holds a reference on this
	 * module while a channel executes it, so unload waits/fails meanwhile. */
	return ast_register_application(name, exec, synopsis, description);
}

int hotline_unregister_app(const char *name)
{
	return ast_unregister_application(name);
}

/* ---- CLI -------------------------------------------------------------------- */

static char *cli_handler(struct ast_cli_entry *e, int cmd, struct ast_cli_args *a);

/* Index i of cli_entries[] uses cli_commands[i]. */
static const struct {
	const char *command;
	const char *usage;
} cli_commands[] = {
	{ "hotline show queues",
	  "Usage: hotline show queues\n"
	  "       Show Hotline queues: waiting calls, members, agents logged in and ready.\n" },
	{ "hotline show agents",
	  "Usage: hotline show agents\n"
	  "       Show Hotline agents and their state.\n" },
	{ "hotline show calls",
	  "Usage: hotline show calls\n"
	  "       Show calls currently handled by Hotline.\n" },
	{ "hotline agent",
	  "Usage: hotline agent login <id> [contact]\n"
	  "       hotline agent {logout|ready|reset} <id>\n"
	  "       hotline agent {break|pause} <id> [reason...]\n"
	  "       Change an agent's state; a contact logs in from that phone\n"
	  "       (hot desking); reset frees an agent stuck on a call.\n" },
	{ "hotline queue",
	  "Usage: hotline queue add <queue> <id> [penalty] [tier]\n"
	  "       hotline queue remove <queue> <id>\n"
	  "       hotline queue penalty <queue> <id> <penalty> [tier]\n"
	  "       Change a queue's members at run time.\n" },
	{ "hotline reload",
	  "Usage: hotline reload\n"
	  "       Reload the Hotline configuration.\n" },
	{ "hotline stats",
	  "Usage: hotline stats\n"
	  "       Show Hotline statistics.\n" },
	{ "hotline show sinks",
	  "Usage: hotline show sinks\n"
	  "       Show the event bus's sinks: queue depth, delivered and dropped events.\n" },
	{ "hotline show store",
	  "Usage: hotline show store\n"
	  "       Show the durable store's health.\n" },
	{ "hotline show ivr",
	  "Usage: hotline show ivr\n"
	  "       Show the IVR's counters and its key-to-prompt time.\n" },
	{ "hotline webhooks",
	  "Usage: hotline webhooks show\n"
	  "       hotline webhooks {retry|purge} [webhook]\n"
	  "       Show the webhook endpoints (state, sent, pending, dead letters);\n"
	  "       put dead letters back in the outbox and enable disabled endpoints;\n"
	  "       or drop the dead letters.\n" },
	{ "hotline call",
	  "Usage: hotline call note <call-id> <text...>\n"
	  "       Add a note to a live call (it goes with its transfer history).\n" },
	{ "hotline record",
	  "Usage: hotline record {pause|resume} <call-id>\n"
	  "       Pause a live call's recording (silence is written, the timeline kept)\n"
	  "       or resume it; the paused spans are kept with the recording.\n" },
	{ "hotline recordings",
	  "Usage: hotline recordings [key=value...]\n"
	  "       Search recordings, newest first. Keys: from, to (RFC 3339 or a date),\n"
	  "       agent, queue, caller, call, status, min, max (seconds),\n"
	  "       data.<key>[=value], limit.\n"
	  "       hotline recordings sweep [dry-run]: delete what is past its queue's retention\n"
	  "       hotline recordings erase <caller> [dry-run]: delete one caller's recordings\n"
	  "       hotline recordings {hold|release} <id>: legal hold (kept from every deletion)\n" },
};

static struct ast_cli_entry cli_entries[] = {
	AST_CLI_DEFINE(cli_handler, "Show Hotline queues"),
	AST_CLI_DEFINE(cli_handler, "Show Hotline agents"),
	AST_CLI_DEFINE(cli_handler, "Show Hotline calls"),
	AST_CLI_DEFINE(cli_handler, "Change a Hotline agent's state"),
	AST_CLI_DEFINE(cli_handler, "Change a Hotline queue's members"),
	AST_CLI_DEFINE(cli_handler, "Reload the Hotline configuration"),
	AST_CLI_DEFINE(cli_handler, "Show Hotline statistics"),
	AST_CLI_DEFINE(cli_handler, "Show Hotline event sinks"),
	AST_CLI_DEFINE(cli_handler, "Show the Hotline store"),
	AST_CLI_DEFINE(cli_handler, "Show the Hotline IVR's counters"),
	AST_CLI_DEFINE(cli_handler, "Show or retry Hotline webhooks"),
	AST_CLI_DEFINE(cli_handler, "Note a live Hotline call"),
	AST_CLI_DEFINE(cli_handler, "Pause or resume a Hotline recording"),
	AST_CLI_DEFINE(cli_handler, "Search Hotline recordings"),
};

static char *cli_handler(struct ast_cli_entry *e, int cmd, struct ast_cli_args *a)
{
	char *text;

	switch (cmd) {
	case CLI_INIT: {
		/* One handler for all entries: which one is asked is where e sits. */
		size_t i = (size_t) (e - cli_entries);

		if (i >= ARRAY_LEN(cli_commands)) {
			return NULL;
		}
		e->command = (char *) cli_commands[i].command;
		e->usage = cli_commands[i].usage;
		return NULL;
	}
	case CLI_GENERATE:
		return NULL;
	}

	text = hotline_cli(a->argc, a->argv, a->fd);
	if (!text) {
		return CLI_SHOWUSAGE;
	}
	ast_cli(a->fd, "%s", text);
	hotline_cli_free(text);
	return CLI_SUCCESS;
}

int hotline_cli_register(void)
{
	return ast_cli_register_multiple(cli_entries, ARRAY_LEN(cli_entries));
}

int hotline_cli_unregister(void)
{
	return ast_cli_unregister_multiple(cli_entries, ARRAY_LEN(cli_entries));
}

/* ---- frames, music on hold, channels ---------------------------------------- */

void hotline_frfree(struct ast_frame *frame)
{
	if (frame) {
		ast_frfree(frame);
	}
}

static int ivr_stream_result(int rc)
{
	/* ast_waitstream: the key, 0 at the end, -1 on hang-up. */
	return rc < 0 ? -1 : rc;
}

int hotline_ivr_play(struct ast_channel *chan, const char *file, int barge)
{
	int rc;

	if (ast_check_hangup_locked(chan)) {
		return -1;
	}
	if (ast_streamfile(chan, file, ast_channel_language(chan))) {
		/* A missing file is logged by Asterisk; the menu goes on. */
		return ast_check_hangup_locked(chan) ? -1 : 0;
	}
	rc = ast_waitstream(chan, barge ? AST_DIGIT_ANY : "");
	ast_stopstream(chan);
	return ivr_stream_result(rc);
}

/* Returns of the say functions: a key (> 0), 0 (said), -1 (hung up). */
static int ivr_say_result(struct ast_channel *chan, int rc)
{
	ast_stopstream(chan);
	if (ast_check_hangup_locked(chan)) {
		return -1;
	}
	return rc > 0 ? rc : 0;
}

int hotline_ivr_say_digits(struct ast_channel *chan, const char *digits, int barge)
{
	int rc = ast_say_digit_str(chan, digits, barge ? AST_DIGIT_ANY : "", ast_channel_language(chan));

	return ivr_say_result(chan, rc);
}

int hotline_ivr_say_number(struct ast_channel *chan, int number, int barge)
{
	int rc = ast_say_number(chan, number, barge ? AST_DIGIT_ANY : "", ast_channel_language(chan), NULL);

	return ivr_say_result(chan, rc);
}

int hotline_ivr_say_date(struct ast_channel *chan, long long t, int barge)
{
	/* A weekday, the month, the day as an ordinal, the year. */
	int rc = ast_say_date_with_format(chan, (time_t)t, barge ? AST_DIGIT_ANY : "", ast_channel_language(chan), "ABdY", "UTC");

	return ivr_say_result(chan, rc);
}

int hotline_ivr_say_money(struct ast_channel *chan, const char *amount, int barge)
{
	int rc = ast_say_money_str(chan, amount, barge ? AST_DIGIT_ANY : "", ast_channel_language(chan));

	return ivr_say_result(chan, rc);
}

int hotline_ivr_read_digit(struct ast_channel *chan, int ms)
{
	int rc = ast_waitfordigit(chan, ms);

	return rc < 0 ? -1 : rc;
}

void hotline_ivr_set_language(struct ast_channel *chan, const char *lang)
{
	ast_channel_lock(chan);
	ast_channel_language_set(chan, lang);
	ast_channel_unlock(chan);
}

int hotline_ivr_goto(struct ast_channel *chan, const char *target)
{
	/* As Goto() does: the PBX continues at the target when the
	 * application returns. */
	return ast_parseable_goto(chan, target);
}

int hotline_ivr_record(struct ast_channel *chan, const char *file, int max_sec, int maxsilence_ms, int beep, long *ms)
{
	int duration = 0, sound = 0, rc;
	char wav[PATH_MAX];
	struct stat st;

	*ms = 0;
	if (ast_check_hangup_locked(chan)) {
		return 1;
	}
	rc = ast_play_and_record_full(chan, NULL, file, max_sec, "wav", &duration, &sound, beep, -1, maxsilence_ms, NULL,
		"#", "", 1, AST_RECORD_IF_EXISTS_OVERWRITE);
	/* The file's own length (8 kHz 16-bit: 16 bytes a millisecond after
	 * the 44-byte header): Asterisk's duration is whole seconds and counts
	 * the silence it trimmed. */
	snprintf(wav, sizeof(wav), "%s.wav", file);
	if (!stat(wav, &st) && st.st_size > 44) {
		*ms = (long)((st.st_size - 44) / 16);
	}
	/* rc < 0 is a hang-up, or no audio for seconds: only the former
	 * ends the call. */
	(void)rc;
	return ast_check_hangup_locked(chan) ? 1 : 0;
}

/* ---- the "hotline" speech engine ----
 * res_speech is optional: its functions are weak, so the module loads where
 * res_speech is not (they are NULL then, and the engine is not registered;
 * hotline_ivr_listen() answers "no engine"). */
#pragma weak ast_speech_new
#pragma weak ast_speech_destroy
#pragma weak ast_speech_grammar_load
#pragma weak ast_speech_grammar_activate
#pragma weak ast_speech_start
#pragma weak ast_speech_write
#pragma weak ast_speech_results_get
#pragma weak ast_speech_results_free
#pragma weak ast_speech_change_state
#pragma weak ast_speech_register
#pragma weak ast_speech_unregister

/* Start the next of the prompts to play while listening: 1 when one plays. */
static int listen_prompt(struct ast_channel *chan, const char *const *prompts, size_t n, size_t *next)
{
	while (*next < n) {
		const char *file = prompts[(*next)++];

		if (!ast_streamfile(chan, file, ast_channel_language(chan))) {
			return 1;
		}
	}
	return 0;
}

int hotline_ivr_listen(struct ast_channel *chan, const char *engine, const char *grammar, int timeout_ms,
	const char *const *prompts, size_t nprompts, char *text, size_t len, int *score)
{
	struct ast_speech *speech;
	struct ast_format *old;
	struct timeval start = ast_tvnow(), last = start;
	size_t next = 0;
	int playing = 0;
	/* Speech that started before the timeout may run on this long. */
	const long cap_ms = (long)timeout_ms + 15000;
	int rc = 0;

	text[0] = '\0';
	*score = 0;
	if (ast_check_hangup_locked(chan)) {
		return -1;
	}
	if (!ast_speech_new) {
		return -2;
	}
	speech = ast_speech_new(engine, ast_channel_nativeformats(chan));
	if (!speech) {
		return -2;
	}
	if (ast_speech_grammar_load(speech, "hotline", grammar) || ast_speech_grammar_activate(speech, "hotline")) {
		ast_speech_destroy(speech);
		return -2;
	}
	old = ao2_bump(ast_channel_readformat(chan));
	if (ast_set_read_format(chan, speech->format)) {
		ao2_cleanup(old);
		ast_speech_destroy(speech);
		return -2;
	}
	ast_speech_start(speech);
	/* The prompts play while the engine listens: a key or the caller's
	 * voice stops them (barge-in); the timeout runs from their end. */
	playing = listen_prompt(chan, prompts, nprompts, &next);
	for (;;) {
		long elapsed;
		int state, spoke, ms;
		struct ast_frame *f;

		ast_mutex_lock(&speech->lock);
		state = speech->state;
		spoke = ast_test_flag(speech, AST_SPEECH_SPOKE) ? 1 : 0;
		ast_mutex_unlock(&speech->lock);
		if (playing) {
			if (spoke) {
				ast_stopstream(chan);
				playing = 0;
			} else if (!ast_channel_stream(chan)
				|| (ast_sched_wait(ast_channel_sched(chan)) < 0 && !ast_channel_timingfunc(chan))) {
				/* The file ended (ast_waitstream's test). */
				ast_stopstream(chan);
				playing = listen_prompt(chan, prompts, nprompts, &next);
			}
			if (!playing) {
				start = last = ast_tvnow();
			}
		}
		elapsed = ast_tvdiff_ms(ast_tvnow(), start);
		if (state == AST_SPEECH_STATE_DONE) {
			struct ast_speech_result *r;

			r = ast_speech_results_get(speech);
			if (r && !ast_strlen_zero(r->text)) {
				ast_copy_string(text, r->text, len);
				*score = r->score < 0 ? 0 : (r->score > 100 ? 100 : r->score);
				speech->results = r;
				rc = -3;
				break;
			}
			if (r) {
				ast_speech_results_free(r);
			}
			/* Noise that decoded to nothing: listen on until the timeout. */
			if (elapsed < timeout_ms) {
				ast_speech_start(speech);
				continue;
			}
			break;
		}
		if (state == AST_SPEECH_STATE_NOT_READY) {
			rc = -2;
			break;
		}
		if (!playing && ((!spoke && elapsed >= timeout_ms) || elapsed >= cap_ms)) {
			break;
		}
		if (playing) {
			int wait = ast_sched_wait(ast_channel_sched(chan));

			ms = ast_waitfor(chan, wait < 0 || wait > 20 ? 20 : wait);
			ast_sched_runq(ast_channel_sched(chan));
		} else {
			ms = ast_waitfor(chan, 20);
		}
		if (ms < 0) {
			rc = -1;
			break;
		}
		if (ms == 0) {
			/* No frame for 200 ms (a Local channel, comfort noise) is
			 * silence: feed it, so an utterance can end. (Frames that are
			 * merely late must not be padded: that chops the word.) */
			static const short quiet[320];

			if (state == AST_SPEECH_STATE_READY && ast_tvdiff_ms(ast_tvnow(), last) >= 200) {
				int i;

				for (i = 0; i < 10; i++) {
					ast_speech_write(speech, (void *)quiet,
						(int)(ast_format_get_sample_rate(speech->format) / 50 * sizeof(short)));
				}
				last = ast_tvnow();
			}
			continue;
		}
		f = ast_read(chan);
		if (!f) {
			rc = -1;
			break;
		}
		last = ast_tvnow();
		if (f->frametype == AST_FRAME_VOICE && state == AST_SPEECH_STATE_READY) {
			ast_speech_write(speech, f->data.ptr, f->datalen);
		} else if (f->frametype == AST_FRAME_DTMF) {
			rc = f->subclass.integer;
			ast_frfree(f);
			break;
		}
		ast_frfree(f);
	}
	if (playing) {
		ast_stopstream(chan);
	}
	if (old) {
		ast_set_read_format(chan, old);
		ao2_cleanup(old);
	}
	ast_speech_destroy(speech);
	return rc == 0 && ast_check_hangup_locked(chan) ? -1 : rc;
}

static int spk_create(struct ast_speech *speech, struct ast_format *format)
{
	speech->data = hotline_speech_create((int)ast_format_get_sample_rate(format));
	return speech->data ? 0 : -1;
}

static int spk_destroy(struct ast_speech *speech)
{
	hotline_speech_destroy(speech->data);
	speech->data = NULL;
	return 0;
}

static int spk_load(struct ast_speech *speech, const char *name, const char *grammar)
{
	return hotline_speech_load(speech->data, name, grammar);
}

static int spk_unload(struct ast_speech *speech, const char *name)
{
	return hotline_speech_unload(speech->data, name);
}

static int spk_activate(struct ast_speech *speech, const char *name)
{
	return hotline_speech_activate(speech->data, name, 1);
}

static int spk_deactivate(struct ast_speech *speech, const char *name)
{
	return hotline_speech_activate(speech->data, name, 0);
}

static int spk_write(struct ast_speech *speech, void *data, int len)
{
	int p = hotline_speech_write(speech->data, data, len);

	if (p < 0) {
		ast_speech_change_state(speech, AST_SPEECH_STATE_NOT_READY);
		return -1;
	}
	if (p >= 1) {
		/* They are talking: SpeechBackground stops the prompt. */
		ast_set_flag(speech, AST_SPEECH_QUIET);
	}
	if (p == 2) {
		/* Unless the decoder was quicker and moved it to DONE already. */
		ast_mutex_lock(&speech->lock);
		if (speech->state == AST_SPEECH_STATE_READY) {
			ast_speech_change_state(speech, AST_SPEECH_STATE_WAIT);
		}
		ast_mutex_unlock(&speech->lock);
	} else if (p == 3) {
		hotline_speech_ready(speech);
	}
	return 0;
}

static int spk_dtmf(struct ast_speech *speech, const char *dtmf)
{
	return 0;
}

static int spk_start(struct ast_speech *speech)
{
	if (hotline_speech_start(speech->data, speech)) {
		return -1;
	}
	ast_clear_flag(speech, AST_SPEECH_HAVE_RESULTS);
	ast_speech_change_state(speech, AST_SPEECH_STATE_READY);
	return 0;
}

static int spk_change(struct ast_speech *speech, const char *name, const char *value)
{
	return -1;
}

static int spk_get_setting(struct ast_speech *speech, const char *name, char *buf, size_t len)
{
	return -1;
}

static int spk_results_type(struct ast_speech *speech, enum ast_speech_results_type type)
{
	return type == AST_SPEECH_RESULTS_TYPE_NORMAL ? 0 : -1;
}

static struct ast_speech_result *spk_get(struct ast_speech *speech)
{
	char text[256], grammar[64];
	int score = 0;
	struct ast_speech_result *r;

	if (!hotline_speech_result(speech->data, text, sizeof(text), &score, grammar, sizeof(grammar))) {
		return NULL;
	}
	r = ast_calloc(1, sizeof(*r));
	if (!r) {
		return NULL;
	}
	r->text = ast_strdup(text);
	r->grammar = ast_strdup(grammar);
	r->score = score;
	return r;
}

static struct ast_speech_engine spk_engine = {
	.name = "hotline",
	.create = spk_create,
	.destroy = spk_destroy,
	.load = spk_load,
	.unload = spk_unload,
	.activate = spk_activate,
	.deactivate = spk_deactivate,
	.write = spk_write,
	.dtmf = spk_dtmf,
	.start = spk_start,
	.change = spk_change,
	.get_setting = spk_get_setting,
	.change_results_type = spk_results_type,
	.get = spk_get,
};

int hotline_speech_register(void)
{
	if (!ast_speech_register) {
		return -1;
	}
	spk_engine.formats = ast_format_cap_alloc(AST_FORMAT_CAP_FLAG_DEFAULT);
	if (!spk_engine.formats) {
		return -1;
	}
	ast_format_cap_append(spk_engine.formats, ast_format_slin, 0);
	ast_format_cap_append(spk_engine.formats, ast_format_slin16, 0);
	if (ast_speech_register(&spk_engine)) {
		ao2_cleanup(spk_engine.formats);
		spk_engine.formats = NULL;
		return -1;
	}
	return 0;
}

void hotline_speech_unregister(void)
{
	if (spk_engine.formats) {
		ast_speech_unregister("hotline");
		ao2_cleanup(spk_engine.formats);
		spk_engine.formats = NULL;
	}
}

void hotline_speech_ready(struct ast_speech *speech)
{
	ast_mutex_lock(&speech->lock);
	ast_set_flag(speech, AST_SPEECH_HAVE_RESULTS);
	ast_speech_change_state(speech, AST_SPEECH_STATE_DONE);
	ast_mutex_unlock(&speech->lock);
}

int hotline_moh_start(struct ast_channel *chan, const char *mclass)
{
	return ast_moh_start(chan, mclass, NULL);
}

void hotline_moh_stop(struct ast_channel *chan)
{
	ast_moh_stop(chan);
}

void hotline_channel_lock(struct ast_channel *chan)
{
	ast_channel_lock(chan);
}

void hotline_channel_unlock(struct ast_channel *chan)
{
	ast_channel_unlock(chan);
}

struct ast_channel *hotline_channel_ref(struct ast_channel *chan)
{
	return chan ? ast_channel_ref(chan) : NULL;
}

struct ast_channel *hotline_channel_unref(struct ast_channel *chan)
{
	if (chan) {
		ast_channel_unref(chan);
	}
	return NULL;
}

/* The caller id's number or name, copied under the channel's lock. */
static int copy_caller_id(struct ast_channel *chan, char *buf, int len, int name)
{
	struct ast_party_caller *caller;
	const struct ast_party_id *id;
	const char *v = NULL;

	if (!buf || len <= 0) {
		return 0;
	}
	buf[0] = '\0';
	if (!chan) {
		return 0;
	}
	ast_channel_lock(chan);
	caller = ast_channel_caller(chan);
	if (caller) {
		id = &caller->id;
		if (name && id->name.valid) {
			v = id->name.str;
		} else if (!name && id->number.valid) {
			v = id->number.str;
		}
	}
	if (v) {
		ast_copy_string(buf, v, len);
	}
	ast_channel_unlock(chan);
	return (int) strlen(buf);
}

int hotline_channel_caller_number(struct ast_channel *chan, char *buf, int len)
{
	return copy_caller_id(chan, buf, len, 0);
}

int hotline_channel_caller_name(struct ast_channel *chan, char *buf, int len)
{
	return copy_caller_id(chan, buf, len, 1);
}

void hotline_leg_from_caller(struct ast_channel *leg, struct ast_channel *caller)
{
	ast_channel_lock_both(leg, caller);
	ast_connected_line_copy_from_caller(ast_channel_connected(leg), ast_channel_caller(caller));
	ast_channel_inherit_variables(caller, leg);
	ast_channel_datastore_inherit(caller, leg);
	ast_channel_req_accountcodes_precious(leg, caller, AST_CHANNEL_REQUESTOR_BRIDGE_PEER);
	ast_channel_unlock(leg);
	ast_channel_unlock(caller);
}

int hotline_wake_channel(const char *name, const char *uniqueid)
{
	struct ast_frame wake = { .frametype = AST_FRAME_NULL, };
	struct ast_channel *chan = ast_channel_get_by_name(name);

	if (chan) {
		int same;

		/* A name is looked up in a hash; a rename (masquerade) makes it
		 * someone else's or nobody's: then the unique id decides. */
		ast_channel_lock(chan);
		same = !strcmp(ast_channel_uniqueid(chan), uniqueid);
		ast_channel_unlock(chan);
		if (!same) {
			chan = ast_channel_unref(chan);
		}
	}
	if (!chan) {
		chan = ast_channel_get_by_uniqueid(uniqueid);
	}
	if (!chan) {
		return -1;
	}
	ast_queue_frame(chan, &wake);
	ast_channel_unref(chan);
	return 0;
}

int hotline_play_to_leg(struct ast_channel *leg, struct ast_channel *caller, int kind, const char *file, const char *text)
{
	int serviced = !ast_autoservice_start(caller);
	int caller_gone;
	char lang[64];

	ast_channel_lock(leg);
	ast_copy_string(lang, ast_channel_language(leg), sizeof(lang));
	ast_channel_unlock(leg);
	if (!file) {
		file = "";
	}
	if (!text) {
		text = "";
	}
	switch (kind) {
	case HOTLINE_PROMPT_FILE_OR_SPELL:
		if (ast_fileexists(file, NULL, lang) > 0) {
			ast_stream_and_wait(leg, file, "");
		} else {
			ast_say_character_str(leg, text, "", lang, AST_SAY_CASE_NONE);
		}
		break;
	case HOTLINE_PROMPT_DIGITS:
		ast_say_digit_str(leg, text, "", lang);
		break;
	case HOTLINE_PROMPT_SPELL:
		ast_say_character_str(leg, text, "", lang, AST_SAY_CASE_NONE);
		break;
	case HOTLINE_PROMPT_FILE:
	default:
		ast_stream_and_wait(leg, file, "");
		break;
	}
	ast_stopstream(leg);
	caller_gone = serviced ? ast_autoservice_stop(caller) != 0 : 0;
	if (caller_gone || ast_check_hangup_locked(caller)) {
		return 2;
	}
	return ast_check_hangup_locked(leg) ? 1 : 0;
}

int hotline_pjsip_auto_answer(struct ast_channel *leg)
{
	/* A name ending in ')' is a function write (PJSIP_HEADER on the new
	 * channel's session, sent with its INVITE), as a pre-dial handler does. */
	if (pbx_builtin_setvar_helper(leg, "PJSIP_HEADER(add,Call-Info)", "<sip:127.0.0.1>;answer-after=0")) {
		return -1;
	}
	return pbx_builtin_setvar_helper(leg, "PJSIP_HEADER(add,Alert-Info)", "<http://localhost>;info=alert-autoanswer;delay=0");
}

int hotline_channel_exists(const char *name_or_uniqueid)
{
	struct ast_channel *chan = ast_channel_get_by_name(name_or_uniqueid);

	if (!chan) {
		return 0;
	}
	ast_channel_unref(chan);
	return 1;
}

int hotline_record_mute(const char *name_or_uniqueid, int mute)
{
	struct ast_channel *chan = ast_channel_get_by_name(name_or_uniqueid);
	int res;

	if (!chan) {
		return -1;
	}
	/* Both directions: the recording keeps its timeline, in silence. */
	res = ast_audiohook_set_mute(chan, "MixMonitor", AST_AUDIOHOOK_MUTE_READ | AST_AUDIOHOOK_MUTE_WRITE, mute ? 0 : 1);
	ast_channel_unref(chan);
	return res ? -2 : 0;
}

int hotline_withdraw_unload_hangup(struct ast_channel *chan)
{
	int withdrawn = 0;

	ast_channel_lock(chan);
	if (ast_channel_softhangup_internal_flag(chan) == AST_SOFTHANGUP_APPUNLOAD) {
		ast_channel_clear_softhangup(chan, AST_SOFTHANGUP_APPUNLOAD);
		withdrawn = 1;
	}
	ast_channel_unlock(chan);
	return withdrawn;
}

void hotline_channel_vars(struct ast_channel *chan, const char *prefix, hotline_var_cb cb, void *user)
{
	struct ast_var_t *var;
	size_t n = strlen(prefix);

	ast_channel_lock(chan);
	AST_LIST_TRAVERSE(ast_channel_varshead(chan), var, entries) {
		const char *name = ast_var_name(var);

		if (name && !strncasecmp(name, prefix, n)) {
			cb(user, name, ast_var_value(var));
		}
	}
	ast_channel_unlock(chan);
}

const char *hotline_ast_var_dir(void)
{
	return ast_config_AST_VAR_DIR;
}

const char *hotline_ast_data_dir(void)
{
	return ast_config_AST_DATA_DIR;
}

struct ast_format_cap *hotline_format_cap_default(void)
{
	struct ast_format_cap *cap = ast_format_cap_alloc(AST_FORMAT_CAP_FLAG_DEFAULT);

	if (!cap) {
		return NULL;
	}
	if (ast_format_cap_append(cap, ast_format_ulaw, 0)
		|| ast_format_cap_append(cap, ast_format_alaw, 0)
		|| ast_format_cap_append(cap, ast_format_slin, 0)) {
		ao2_ref(cap, -1);
		return NULL;
	}
	return cap;
}

void hotline_format_cap_release(struct ast_format_cap *cap)
{
	ao2_cleanup(cap);
}

/* ---- device state ----------------------------------------------------------- */

static struct stasis_subscription *devstate_sub;
static hotline_devstate_cb devstate_callback;

static void devstate_handler(void *data, struct stasis_subscription *sub, struct stasis_message *msg)
{
	struct ast_device_state_message *state;
	hotline_devstate_cb cb = devstate_callback;

	if (stasis_subscription_final_message(sub, msg)) {
		return;
	}
	if (stasis_message_type(msg) != ast_device_state_message_type()) {
		return;
	}
	state = stasis_message_data(msg);
	if (!state || state->eid || !state->device) {
		/* per-server state: only the aggregate (eid == NULL) is wanted */
		return;
	}
	if (cb) {
		cb(state->device, (int) state->state);
	}
}

int hotline_devstate_subscribe(hotline_devstate_cb cb)
{
	if (devstate_sub || !cb) {
		return -1;
	}
	devstate_callback = cb;
	devstate_sub = stasis_subscribe(ast_device_state_topic_all(), devstate_handler, NULL);
	if (!devstate_sub) {
		devstate_callback = NULL;
		return -1;
	}
	/* Only device state messages, plus the subscription change messages
	 * that let stasis_unsubscribe_and_join() see the final message. */
	stasis_subscription_accept_message_type(devstate_sub, ast_device_state_message_type());
	stasis_subscription_accept_message_type(devstate_sub, stasis_subscription_change_type());
	stasis_subscription_set_filter(devstate_sub, STASIS_SUBSCRIPTION_FILTER_SELECTIVE);
	return 0;
}

int hotline_device_state_now(const char *device)
{
	return (int) ast_device_state(device);
}

void hotline_devstate_unsubscribe(void)
{
	if (devstate_sub) {
		devstate_sub = stasis_unsubscribe_and_join(devstate_sub);
	}
	devstate_callback = NULL;
}

#endif /* !HOTLINE_MODULE_DESCRIPTOR */

#ifdef HOTLINE_MODULE_DESCRIPTOR
/* ---- this module -------------------------------------------------------------- */

static enum ast_module_load_result load_module(void)
{
	int res = hotline_ast_load();

	switch (res) {
	case AST_MODULE_LOAD_SUCCESS:
	case AST_MODULE_LOAD_DECLINE:
		return res;
	default:
		return AST_MODULE_LOAD_FAILURE;
	}
}

static int unload_module(void)
{
	return hotline_ast_unload();
}

static int reload_module(void)
{
	return hotline_ast_reload();
}

AST_MODULE_INFO(ASTERISK_GPL_KEY, AST_MODFLAG_LOAD_ORDER, "Hotline call center",
	.support_level = AST_MODULE_SUPPORT_EXTENDED,
	.load = load_module,
	.unload = unload_module,
	.reload = reload_module,
	/* consumes device state, like app_queue: load after the providers */
	.load_pri = AST_MODPRI_DEVSTATE_CONSUMER,
	/* the speech API, when it is there: loaded first so the "hotline"
	 * speech engine can register */
	.optional_modules = "res_speech",
);

struct ast_module *hotline_module_self(void)
{
	return AST_MODULE_SELF;
}

void hotline_module_ref(void)
{
	ast_module_ref(AST_MODULE_SELF);
}

void hotline_module_unref(void)
{
	ast_module_unref(AST_MODULE_SELF);
}
#endif /* HOTLINE_MODULE_DESCRIPTOR */
