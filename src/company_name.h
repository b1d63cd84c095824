/*
 * company_name.h
 *	  The normalised key of a company name, by which a lead without a
 *	  company email finds its account (company_name.c).
 */
#ifndef LEADFLOW_COMPANY_NAME_H
#define LEADFLOW_COMPANY_NAME_H

#include "postgres.h"

/*
 * The key of a company name: lower case, accents and ligatures of the Latin
 * letters folded to ASCII, punctuation gone, words separated by one space,
 * a leading "the" and trailing legal forms (Inc, Corp, Ltd, LLC, GmbH, SA,
 * ...) dropped.  "ACME, Inc." and "Acmé Incorporated" both give "acme".
 * utf8 says how to read bytes above 0x7f (UTF-8, else single-byte
 * characters kept as they are).  NULL when nothing is left.  palloc'd.
 */
extern char *company_key(const char *name, bool utf8);

#endif							/* LEADFLOW_COMPANY_NAME_H */
