/*
 * constants.h
 *	  Numbers more than one unit must agree on, or that a reader looks for
 *	  in one place: advisory lock key spaces, how much of a user's text an
 *	  error message quotes, phone number lengths, repeated defaults.
 *
 * Macros only, and no PostgreSQL header: the parsers (cadence_parse.c,
 * workhours_parse.c) include it and build without the server for fuzzing.
 */
#ifndef LEADFLOW_CONSTANTS_H
#define LEADFLOW_CONSTANTS_H

/*
 * Advisory lock key spaces: the first key of each transaction-level
 * advisory lock leadflow takes ("LF" and a letter in ASCII), one per kind
 * of lock, so that locks of different kinds never collide; an
 * application's own advisory locks collide with them only if it picks the
 * same numbers.  The second key is the queue's hash or the contact key's
 * bucket (0 for the sweep).
 */
#define LEADFLOW_LOCK_SPACE_CONTACT	0x4C4644	/* "LFD": a contact key (duplicates.c) */
#define LEADFLOW_LOCK_SPACE_QUEUE	0x4C4651	/* "LFQ": a queue (routing.c) */
#define LEADFLOW_LOCK_SPACE_SWEEP	0x4C4653	/* "LFS": the sweep (sweep.c) */

/*
 * How much of a user's text an error message quotes.  The parsers of the
 * cadence and workhours literals quote the piece of a literal that is
 * wrong (the message shows where it is anyway); other messages quote a
 * whole value, clipped by leadflow_quote_clip.
 */
#define LEADFLOW_PARSE_QUOTE_MAX	40
#define LEADFLOW_QUOTE_MAX			200

/*
 * A phone number's digits with its country code (E.164: at most 15);
 * fewer than 5 is not a phone number (hygiene.c).
 */
#define LEADFLOW_PHONE_MIN_DIGITS	5
#define LEADFLOW_PHONE_MAX_DIGITS	15

/* The default of leadflow.sweep_batch_size (guc.c). */
#define LEADFLOW_SWEEP_BATCH_DEFAULT	1000
/* leadflow.shared_queues: queues whose turns live in shared memory (shared_turns.c) */
#define LEADFLOW_SHARED_QUEUES_DEFAULT	64

#endif							/* LEADFLOW_CONSTANTS_H */
