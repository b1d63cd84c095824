/*
 * duplicates.h
 *	  Finding the lead a contact already is, under a lock on its contact
 *	  keys (duplicates.c).
 */
#ifndef LEADFLOW_DUPLICATES_H
#define LEADFLOW_DUPLICATES_H

#include "postgres.h"

#include "utils/timestamp.h"

/* The lead this contact already is, if any. */
typedef struct DuplicateMatch
{
	bool		found;
	bool		open;			/* in stage new or working */
	int64		lead_id;
	int32		owner_id;		/* 0 = none */
	char	   *queue;
} DuplicateMatch;

extern bool duplicate_find(const char *email, const char *phone, DuplicateMatch *match);
extern void duplicate_unlock(const char *email, const char *phone);
extern void duplicate_note_reinquiry(int64 open_lead, int64 new_lead, TimestampTz at);
/* error when another owner's open lead has this email or phone (column) */
extern void duplicate_refuse_contact_taken(int64 lead_id, int32 owner_id, const char *column,
										   const char *key);

#endif							/* LEADFLOW_DUPLICATES_H */
