/*
 * util.c
 *	  Small helpers every unit may use.
 *
 * Kept apart from the module entry (leadflow.c), which calls every unit's
 * initialisation: a helper there would make each caller depend on the
 * entry and the entry on it, a call cycle.
 */
#include "postgres.h"

#include "mb/pg_wchar.h"

#include "util.h"

const char *
leadflow_quote_clip(const char *s)
{
	int			len = strlen(s);
	int			keep;

	if (len <= LEADFLOW_QUOTE_MAX)
		return s;
	keep = pg_mbcliplen(s, len, LEADFLOW_QUOTE_MAX);
	return psprintf("%.*s...", keep, s);
}

bool
xact_event_ends_transaction(XactEvent event)
{
	return event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE;
}

bool
xact_event_precedes_commit(XactEvent event)
{
	return event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PARALLEL_PRE_COMMIT ||
		event == XACT_EVENT_PRE_PREPARE;
}
