/*
 * hygiene.h
 *	  Normalising contact data: names, emails, phones (hygiene.c).
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

extern char *hygiene_clean_text(const char *s);
extern char *hygiene_email(const char *raw);
extern char *hygiene_phone(const char *raw, const CountryCode *country);

#endif							/* LEADFLOW_HYGIENE_H */
