/*
 * standby.c
 *	  Refusing leadflow's writing functions, at once and with a clear
 *	  error, where they cannot write: on a hot standby and in a read-only
 *	  transaction.
 *
 * Every leadflow function that writes carries
 *	   SET leadflow.primary_only = 'leadflow.<its name>'
 * in its definition (ALTER FUNCTION in the 1.2 script).  Entering such a
 * function sets the setting, which runs the check hook below before the
 * function's body: on a standby it fails with SQLSTATE 25006 and a hint
 * naming the primary, so that route(), sweep(), train() and the others
 * never half-run (read, compute, then trip over their first write, as
 * PostgreSQL's own refusal of the write would make them).  The setting's
 * value is only the function's name, for the message; setting it by hand
 * does nothing on a primary, so no role can switch a rule off with it.
 *
 * Read-only views and functions carry no such setting and work on a
 * standby as on the primary.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "replication/walreceiver.h"
#include "storage/spin.h"
#include "utils/acl.h"
#include "utils/guc.h"

#include "standby.h"

static char *primary_only_function = NULL;

/*
 * Where this standby receives its WAL from, as "host port N", or NULL when
 * it is not streaming now.  Only for roles that may see it in
 * pg_stat_wal_receiver (superusers and pg_read_all_stats): the address of
 * the primary is not for every role, and primary_conninfo, which may hold
 * a password, is never read.  The role judged is the one acting outside
 * SECURITY DEFINER functions (the outer user), not the function's owner.
 */
static char *
wal_sender_address(void)
{
	char		host[NI_MAXHOST];
	int			port;
	WalRcvState state;

	if (!has_privs_of_role(GetOuterUserId(), ROLE_PG_READ_ALL_STATS))
		return NULL;
	SpinLockAcquire(&WalRcv->mutex);
	state = WalRcv->walRcvState;
	strlcpy(host, (char *) WalRcv->sender_host, sizeof(host));
	port = WalRcv->sender_port;
	SpinLockRelease(&WalRcv->mutex);
	if (state != WALRCV_STREAMING || host[0] == '\0')
		return NULL;
	return psprintf("host %s port %d", host, port);
}

/*
 * Check hook of leadflow.primary_only: a non-empty value (a writing
 * function being entered) is refused on a standby and in a read-only
 * transaction.  Check hooks report through GUC_check_err*, not ereport.
 */
static bool
check_primary_only(char **newval, void **extra, GucSource source)
{
	const char *function = *newval;

	/* outside a transaction (connection options, library load): nothing runs */
	if (function == NULL || function[0] == '\0' || !IsUnderPostmaster ||
		!IsTransactionState())
		return true;

	if (RecoveryInProgress())
	{
		char	   *sender = wal_sender_address();

		GUC_check_errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION);
		GUC_check_errmsg("%s() cannot run on a hot standby", function);
		GUC_check_errdetail("This server is a standby in recovery: it replays the primary's changes and writes none of its own.");
		if (sender != NULL)
			GUC_check_errhint("Run it on the primary server; this standby receives its WAL from %s.",
							  sender);
		else
			GUC_check_errhint("Run it on the primary server.");
		return false;
	}
	if (XactReadOnly)
	{
		GUC_check_errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION);
		GUC_check_errmsg("%s() cannot run in a read-only transaction", function);
		GUC_check_errdetail("%s() writes leadflow's tables.", function);
		GUC_check_errhint("Run it in a read-write transaction (see SET TRANSACTION and default_transaction_read_only).");
		return false;
	}
	return true;
}

void
standby_guard_init(void)
{
	DefineCustomStringVariable("leadflow.primary_only",
							   "Set by leadflow's writing functions: refuses them on a hot standby and in read-only transactions.",
							   "Its value is the function's name; setting it by hand changes nothing on a primary.",
							   &primary_only_function,
							   "",
							   PGC_USERSET,
							   GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							   check_primary_only, NULL, NULL);
}
