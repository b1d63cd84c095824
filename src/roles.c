/*
 * roles.c
 *	  Who is acting, as leadflow's rules judge it.
 *
 * Inside a SECURITY DEFINER function or trigger GetUserId() is the
 * extension's owner -- usually a superuser -- so a rule about the caller
 * that asked it would always pass.  The role whose rights the caller
 * really has is the outer user: the session's role after SET ROLE, which
 * SECURITY DEFINER does not change (GetOuterUserId()).  Rules about who
 * acts ask about that role; leadflow.acting_role() names it.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/rel.h"

#include "roles.h"

/* The owner of extension leadflow, or InvalidOid. */
static Oid
extension_owner(void)
{
	Oid			extension = get_extension_oid("leadflow", true);
	Oid			owner = InvalidOid;
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	if (!OidIsValid(extension))
		return InvalidOid;
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extension));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		owner = ((Form_pg_extension) GETSTRUCT(tuple))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return owner;
}

/*
 * check_function_bodies is a setting anyone may change, so on its own it
 * cannot be what switches the rules off.  A superuser and the extension's
 * owner can already write the ledger and the counters directly; keeping
 * their rows as given lets them do nothing they could not do anyway.  The
 * owner is looked up only when the setting is off and the role is no
 * superuser: never on the hot path.
 */
bool
leadflow_restoring(void)
{
	Oid			acting;

	if (check_function_bodies)
		return false;
	acting = GetOuterUserId();
	return superuser_arg(acting) || acting == extension_owner();
}

static bool
has_privs_of(Oid role, const char *group)
{
	Oid			group_oid = get_role_oid(group, true);

	return OidIsValid(group_oid) && has_privs_of_role(role, group_oid);
}

bool
acting_role_is_manager(void)
{
	return has_privs_of(GetOuterUserId(), "leadflow_manager");
}

static bool
is_rep_session(Oid role)
{
	return has_privs_of(role, "leadflow_rep") &&
		!has_privs_of(role, "leadflow_manager") &&
		!has_privs_of(role, "leadflow_admin");
}

bool
current_role_is_rep_session(void)
{
	return is_rep_session(GetUserId());
}

bool
acting_role_is_rep_session(void)
{
	return is_rep_session(GetOuterUserId());
}

PG_FUNCTION_INFO_V1(leadflow_restoring_sql);

/* leadflow.restoring(): leadflow_restoring() for the PL/pgSQL triggers. */
Datum
leadflow_restoring_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(leadflow_restoring());
}
