/*
 * accounts.h
 *	  Finding a lead's account -- by its account_id, its email domain, or
 *	  the company it names -- and the account's owner (accounts.c).
 */
#ifndef LEADFLOW_ACCOUNTS_H
#define LEADFLOW_ACCOUNTS_H

#include "postgres.h"

#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "matching.h"
#include "config_cache.h"

/* How an account was found: the labels of leadflow.account_match. */
typedef enum AccountMatch
{
	ACCOUNT_NONE,				/* no account */
	ACCOUNT_GIVEN,				/* the lead came with account_id */
	ACCOUNT_DOMAIN,				/* by email domain */
	ACCOUNT_NEW_DOMAIN,			/* made for a new email domain */
	ACCOUNT_COMPANY,			/* by the company name's key */
	ACCOUNT_SIMILAR,			/* by a similar company name (pg_trgm) */
	ACCOUNT_DUPLICATE			/* the account of the lead it duplicates */
} AccountMatch;

/* The label of a match for the ledger; NULL for ACCOUNT_NONE. */
extern const char *account_match_label(AccountMatch match);

typedef struct AccountInfo
{
	bool		found;
	bool		created;		/* by this transaction's routing, just now */
	AccountMatch match;
	int64		id;
	int32		owner_id;		/* 0 = none */
	bool		has_owned_until;
	TimestampTz owned_until;
	bool		suppressed;
	char	   *suppress_reason;
	Jsonb	   *doc;			/* the routing document's "account": attrs, name, status */
	char	   *new_domain;		/* not found: a company domain routing will make an account for */
} AccountInfo;

/*
 * The lead's account, read only: its account_id (when not 0), else its
 * email domain (free-mail domains excepted), else -- for free-mail or
 * missing emails -- the key of the company it names, exactly, or, when
 * leadflow.account_similarity is above 0 and pg_trgm is installed, the
 * most similar name at least that similar.  A company domain without an
 * account leaves it in acct->new_domain.  The caller is connected to SPI.
 */
extern void account_find(RoutingConfig *config, int64 account_id, const RoutingDoc *doc,
						 AccountInfo *acct);

/* Make the account of acct->new_domain (or find a concurrent creator's). */
extern void account_create_pending(RoutingConfig *config, AccountInfo *acct);

/* Read the account again (its owner may have changed under a lock). */
extern void account_reread(RoutingConfig *config, AccountInfo *acct);

/*
 * Lock the account's row (as the UPDATE that sets its owner does) and read
 * its owner again: a router that set one and let the queue lock go at
 * pre-commit is waited for.  The caller is connected to SPI.
 */
extern void account_lock_owner(AccountInfo *acct);

/* Does the account have an owner whose ownership has not ended? */
extern bool account_owner_current(const AccountInfo *acct, TimestampTz now);

/*
 * Make rep_id the owner of an ownerless account, until until (or for
 * good); false when the account has a current owner after all.  acct
 * keeps what it was before.
 */
extern bool account_take_ownership(AccountInfo *acct, int32 rep_id, bool has_until,
								   TimestampTz until, TimestampTz now);

/*
 * The routing document's "account" of an account id, as the current user
 * may read it; NULL when there is none or the user may not read accounts.
 */
extern Jsonb *account_doc(int64 account_id);

/* The account_id of a lead (0 when it has none or does not exist). */
extern int64 account_of_lead(int64 lead_id);

extern int	accounts_by_ids(Datum ids, AccountInfo **accts);

#endif							/* LEADFLOW_ACCOUNTS_H */
