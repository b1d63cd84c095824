/*
 * guc.c
 *	  leadflow's settings, and the clock that every time-dependent function
 *	  reads.
 *
 * The prefix "leadflow." is reserved: a misspelt leadflow.* setting is an
 * error instead of a silently ignored placeholder.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "constants.h"

bool		leadflow_route_on_insert = true;
int			leadflow_sweep_batch_size = LEADFLOW_SWEEP_BATCH_DEFAULT;
bool		leadflow_override_caps = false;
bool		leadflow_detect_duplicates = true;
double		leadflow_account_similarity = 0;
int			leadflow_shared_queues = LEADFLOW_SHARED_QUEUES_DEFAULT;

static char *leadflow_clock_text = NULL;
char	   *leadflow_default_country = NULL;

/* Parsed leadflow.clock; valid only while clock_is_set. */
static bool clock_is_set = false;
static TimestampTz clock_value = 0;

/*
 * Parse a timestamp with time zone without throwing: GUC check hooks must
 * report problems through GUC_check_errdetail, not ereport.  The text is
 * read like timestamptz input (ISO 8601 and the other DateStyles; without
 * an explicit offset it is taken in the session's TimeZone).
 */
static bool
parse_clock(const char *text, TimestampTz *result, const char **why)
{
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype;
	struct pg_tm tt;
	fsec_t		fsec;
	int			tz;
	int			dterr;
#if PG_VERSION_NUM >= 160000
	DateTimeErrorExtra extra;
#endif

	dterr = ParseDateTime(text, workbuf, sizeof(workbuf), field, ftype,
						  MAXDATEFIELDS, &nf);
	if (dterr == 0)
#if PG_VERSION_NUM >= 160000
		dterr = DecodeDateTime(field, ftype, nf, &dtype, &tt, &fsec, &tz, &extra);
#else
		dterr = DecodeDateTime(field, ftype, nf, &dtype, &tt, &fsec, &tz);
#endif
	if (dterr != 0)
	{
		*why = "It is not a valid timestamp with time zone.";
		return false;
	}
	if (dtype == DTK_EPOCH)
	{
		*result = SetEpochTimestamp();
		return true;
	}
	if (dtype != DTK_DATE)
	{
		*why = "The clock must be a finite point in time.";
		return false;
	}
	if (tm2timestamp(&tt, fsec, &tz, result) != 0 || !IS_VALID_TIMESTAMP(*result))
	{
		*why = "The timestamp is out of range.";
		return false;
	}
	return true;
}

static bool
check_clock(char **newval, void **extra, GucSource source)
{
	TimestampTz parsed;
	const char *why;
	TimestampTz *stored;

	if (*newval == NULL || (*newval)[0] == '\0')
	{
		*extra = NULL;
		return true;
	}
	if (!parse_clock(*newval, &parsed, &why))
	{
		GUC_check_errdetail("%s", why);
		GUC_check_errhint("Use an ISO 8601 timestamp such as '2026-03-09 09:00:00+00', or '' for real time.");
		return false;
	}
	stored = (TimestampTz *) malloc(sizeof(TimestampTz));
	if (stored == NULL)
		return false;
	*stored = parsed;
	*extra = stored;
	return true;
}

static void
assign_clock(const char *newval, void *extra)
{
	clock_is_set = (extra != NULL);
	clock_value = clock_is_set ? *(TimestampTz *) extra : 0;
}

TimestampTz
leadflow_now(void)
{
	if (clock_is_set)
		return clock_value;
	return GetCurrentTransactionStartTimestamp();
}

void
leadflow_define_gucs(void)
{
	DefineCustomBoolVariable("leadflow.route_on_insert",
							 "Route leads inserted without an owner in the INSERT's own transaction.",
							 "When off, new leads wait for leadflow.route() or leadflow.route_pending().",
							 &leadflow_route_on_insert,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	/*
	 * Shared memory is sized once, at server start (shared_turns.c): only
	 * when leadflow is in shared_preload_libraries, and PostgreSQL refuses
	 * a PGC_POSTMASTER setting defined later (FATAL), so it exists only
	 * then.
	 */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("leadflow.shared_queues",
								"Round-robin queues whose turns routers hand over in shared memory.",
								"Needs leadflow in shared_preload_libraries; 0 turns it off.  A queue beyond it keeps its routing lock to commit.",
								&leadflow_shared_queues,
								LEADFLOW_SHARED_QUEUES_DEFAULT,
								0, 100000,
								PGC_POSTMASTER,
								0,
								NULL, NULL, NULL);

	DefineCustomIntVariable("leadflow.sweep_batch_size",
							"Most leads one sweep action handles in one call.",
							NULL,
							&leadflow_sweep_batch_size,
							LEADFLOW_SWEEP_BATCH_DEFAULT,
							1, 1000000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	/*
	 * Anyone may set it; routing honours it only for members of
	 * leadflow_manager, checked when it is used (a check hook cannot look
	 * at the catalogs reliably).
	 */
	DefineCustomBoolVariable("leadflow.override_caps",
							 "Let a manager's manual moves exceed pipeline caps.",
							 "Honoured only for members of leadflow_manager; every override is recorded in the ledger.",
							 &leadflow_override_caps,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("leadflow.clock",
							   "A fixed \"now\" for leadflow (tests, replays, backtests); empty means real time.",
							   NULL,
							   &leadflow_clock_text,
							   "",
							   PGC_SUSET,
							   0,
							   check_clock, assign_clock, NULL);

	DefineCustomBoolVariable("leadflow.detect_duplicates",
							 "Treat a new lead whose email (or phone) matches an open lead as its duplicate.",
							 "Off for bulk loads known to hold no duplicates.",
							 &leadflow_detect_duplicates,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("leadflow.default_country",
							   "Country (ISO 3166 alpha-2) of phone numbers written without a country code, for leads with no country.",
							   NULL,
							   &leadflow_default_country,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	/*
	 * Superusers only (ALTER DATABASE ... SET, or GRANT SET ON PARAMETER):
	 * it decides which account, and so which owner, a lead gets.
	 */
	DefineCustomRealVariable("leadflow.account_similarity",
							 "Least pg_trgm similarity of company names by which a lead without a company email finds an account; 0 turns the search off.",
							 "Needs pg_trgm (CREATE EXTENSION pg_trgm); exact name matches come first.",
							 &leadflow_account_similarity,
							 0, 0, 1,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("leadflow");
#else
	EmitWarningsOnPlaceholders("leadflow");
#endif
}

PG_FUNCTION_INFO_V1(leadflow_now_sql);

/* leadflow.now(): SQL access to leadflow_now() for views and tests. */
Datum
leadflow_now_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(leadflow_now());
}
