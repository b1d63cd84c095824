/*
 * roles.h
 *	  Who is acting, as leadflow's rules judge it (roles.c).
 */
#ifndef LEADFLOW_ROLES_H
#define LEADFLOW_ROLES_H

#include "postgres.h"

/*
 * True while a restore loads data: check_function_bodies is off (every
 * pg_dump script and pg_restore session sets it) and the acting role is a
 * superuser or the extension's owner.  The triggers then keep rows as
 * given.  Anybody else who turns check_function_bodies off gets the
 * normal rules.
 */
extern bool leadflow_restoring(void);

/* Has the acting role the privileges of leadflow_manager (superusers do)? */
extern bool acting_role_is_manager(void);

/*
 * Is the current role (GetUserId(): call it from SECURITY INVOKER code) a
 * rep session: the privileges of leadflow_rep and of neither
 * leadflow_manager nor leadflow_admin?  The C twin of NOT
 * leadflow.sees_all_rows().
 */
extern bool current_role_is_rep_session(void);

/* The same for the acting role (callable from SECURITY DEFINER code). */
extern bool acting_role_is_rep_session(void);

#endif							/* LEADFLOW_ROLES_H */
