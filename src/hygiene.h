/*
 * hygiene.h
 *	  Normalising contact data (hygiene.c) and finding duplicates
 *	  (duplicates.c).
 */
#ifndef LEADFLOW_HYGIENE_H
#define LEADFLOW_HYGIENE_H

#include "postgres.h"

#include "utils/timestamp.h"

/* A country's telephone calling code and national trunk prefix. */
typedef struct CountryCode
{
	char		country[3];		/* ISO 3166 alpha-2, upper case */
	char		calling_code[5];	/* digits, no "+" */
	char		trunk_prefix[3];	/* "0", "8", or "" */
} CountryCode;

/* hygiene.c */
extern char *hygiene_clean_text(const char *s);
extern char *hygiene_email(const char *raw);
extern char *hygiene_phone(const char *raw, const CountryCode *country);

/* duplicates.c: the lead this contact already is, if any */
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

#endif							/* LEADFLOW_HYGIENE_H */
