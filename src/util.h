/*
 * util.h
 *	  Small helpers every unit may use (util.c).
 */
#ifndef LEADFLOW_UTIL_H
#define LEADFLOW_UTIL_H

#include "postgres.h"

#include "access/xact.h"

#include "constants.h"

/*
 * Text a user gave, for quoting in an error message: itself when short,
 * else its first LEADFLOW_QUOTE_MAX bytes (whole characters) and "...".
 * A careless caller may send megabytes; a message need not repeat them.
 */
extern const char *leadflow_quote_clip(const char *s);

/*
 * Whether a transaction callback's event ends the transaction (commit,
 * abort or prepare, parallel or not): what lived in TopTransactionContext
 * is gone.  And whether it comes just before a commit or prepare, when
 * nothing may be left unwritten.
 */
extern bool xact_event_ends_transaction(XactEvent event);
extern bool xact_event_precedes_commit(XactEvent event);

#endif							/* LEADFLOW_UTIL_H */
