/*
 * hygiene.c
 *	  Normalising a lead's contact data as it is written.
 *
 *	  email    trimmed and lower-cased; one that is not local@domain.tld,
 *			   or is longer than 254 bytes, becomes NULL (a malformed
 *			   address must not match anyone)
 *	  phone    digits with the country code: "+4930123456".  "+" or "00"
 *			   starts an international number; otherwise the national trunk
 *			   prefix is dropped and the calling code of the lead's country
 *			   (ISO 3166 alpha-2), else of leadflow.default_country, is put
 *			   in front; with neither, the bare digits are kept.  Fewer
 *			   than 5 or more than 15 digits: NULL.
 *	  name, company   trimmed, runs of white space made one space
 *
 * Whatever changed keeps its original in attrs ("original_email", ...), so
 * nothing a CRM sent is lost.
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/jsonb.h"

#include "hygiene.h"
#include "constants.h"

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Trim and collapse white space; NULL for an empty result. */
char *
hygiene_clean_text(const char *s)
{
	StringInfoData out;
	bool		pending_space = false;

	initStringInfo(&out);
	for (; *s; s++)
	{
		if (is_space(*s))
		{
			pending_space = out.len > 0;
			continue;
		}
		if (pending_space)
			appendStringInfoChar(&out, ' ');
		pending_space = false;
		appendStringInfoChar(&out, *s);
	}
	return out.len > 0 ? out.data : NULL;
}

/*
 * The longest address that can be delivered (RFC 5321: a 256-byte path
 * less its angle brackets).  A longer one is junk, and must not reach the
 * index on lead.email, whose entries are limited to a few kB.
 */
#define EMAIL_MAX_BYTES 254

/* local@domain with a dot in the domain, no spaces, one '@'. */
static bool
looks_like_email(const char *e)
{
	const char *at = strchr(e, '@');
	const char *dot;

	if (strlen(e) > EMAIL_MAX_BYTES)
		return false;
	if (at == NULL || at == e || strchr(at + 1, '@') != NULL)
		return false;
	dot = strrchr(at + 1, '.');
	if (dot == NULL || dot == at + 1 || dot[1] == '\0')
		return false;
	for (; *e; e++)
		if (is_space(*e))
			return false;
	return true;
}

char *
hygiene_email(const char *raw)
{
	char	   *trimmed = hygiene_clean_text(raw);
	char	   *lower;

	if (trimmed == NULL)
		return NULL;
	lower = str_tolower(trimmed, strlen(trimmed), DEFAULT_COLLATION_OID);
	return looks_like_email(lower) ? lower : NULL;
}

char *
hygiene_phone(const char *raw, const CountryCode *country)
{
	StringInfoData digits;
	StringInfoData out;
	const char *p = raw;
	bool		international;

	while (is_space(*p))
		p++;
	international = *p == '+';
	initStringInfo(&digits);
	for (; *p; p++)
		if (*p >= '0' && *p <= '9')
			appendStringInfoChar(&digits, *p);
	if (!international && strncmp(digits.data, "00", 2) == 0)
	{
		international = true;
		memmove(digits.data, digits.data + 2, digits.len - 1);
		digits.len -= 2;
	}

	initStringInfo(&out);
	appendStringInfoChar(&out, '+');
	if (!international && country == NULL)
	{
		/* no way to know the country code: keep the digits, without "+" */
		if (digits.len < LEADFLOW_PHONE_MIN_DIGITS || digits.len > LEADFLOW_PHONE_MAX_DIGITS)
			return NULL;
		return digits.data;
	}
	if (!international)
	{
		const char *national = digits.data;

		if (country->trunk_prefix[0] != '\0' &&
			strncmp(national, country->trunk_prefix, strlen(country->trunk_prefix)) == 0)
			national += strlen(country->trunk_prefix);
		/* a national number written with its own country code ("1 555 ...") */
		if (strncmp(national, country->calling_code, strlen(country->calling_code)) == 0 &&
			strlen(national) > 10)
			national += strlen(country->calling_code);
		appendStringInfoString(&out, country->calling_code);
		appendStringInfoString(&out, national);
	}
	else
		appendStringInfoString(&out, digits.data);
	/* the digits after "+" */
	if (out.len - 1 < LEADFLOW_PHONE_MIN_DIGITS || out.len - 1 > LEADFLOW_PHONE_MAX_DIGITS)
		return NULL;
	return out.data;
}
