/*
 * util.h
 *	  Small helpers every unit may use (util.c).
 */
#ifndef LEADFLOW_UTIL_H
#define LEADFLOW_UTIL_H

#include "postgres.h"

#include "constants.h"

/*
 * Text a user gave, for quoting in an error message: itself when short,
 * else its first LEADFLOW_QUOTE_MAX bytes (whole characters) and "...".
 * A careless caller may send megabytes; a message need not repeat them.
 */
extern const char *leadflow_quote_clip(const char *s);

#endif							/* LEADFLOW_UTIL_H */
