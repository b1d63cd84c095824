/*
 * matching.h
 *	  Rule matching: a rule's "match" object tested against a lead's routing
 *	  document.  See matching.c for the semantics.
 */
#ifndef LEADFLOW_MATCHING_H
#define LEADFLOW_MATCHING_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

/*
 * The lead columns that the routing document adds to attrs, in the order of
 * RoutingDoc.field[].  A column that is set hides an attrs key of the same
 * name; a column that is NULL leaves the attrs key (if any) visible.
 */
typedef enum RoutingField
{
	ROUTING_SOURCE,
	ROUTING_CAMPAIGN,
	ROUTING_COMPANY,
	ROUTING_COUNTRY,
	ROUTING_DOMAIN,				/* from the email, see routing_doc_build() */
	ROUTING_NFIELDS
} RoutingField;

/* The document keys of the fields above: "source", ..., "domain". */
extern const char *const routing_field_names[ROUTING_NFIELDS];

/*
 * A lead's routing document, without building it as jsonb: attrs plus the
 * string fields that override attrs keys of the same name.  It only points
 * at its inputs (except the domain, palloc'd in the current memory context),
 * so they must outlive it.  A nested level of a document is a RoutingDoc
 * with no fields set.
 */
typedef struct RoutingDoc
{
	JsonbContainer *attrs;		/* an object container, or NULL for none */
	const char *field[ROUTING_NFIELDS]; /* not NUL-terminated; NULL = absent */
	int			field_len[ROUTING_NFIELDS]; /* bytes of field[i] */
	JsonbContainer *account;	/* the "account" object (accounts.c), or NULL */
	int			account_len;	/* bytes of *account */
} RoutingDoc;

/* The document key of the lead's account: an object that hides attrs' key. */
#define ROUTING_ACCOUNT_KEY "account"

/*
 * Fill *doc from a lead's columns; any argument may be NULL (SQL NULL).
 * attrs that is not an object counts as no attrs.  The domain is the part
 * of the email after its last '@', trimmed of white space and lower-cased
 * (as lower() does with the database's collation); an email without one
 * gives no domain.  Text arguments may be short-header (DatumGetTextPP).
 */
extern void routing_doc_build(RoutingDoc *doc, Jsonb *attrs,
							  text *source, text *campaign, text *company,
							  text *country, text *email);

/*
 * Give the document its "account" object (an object jsonb, or NULL for
 * none), which must outlive the document.
 */
extern void routing_doc_set_account(RoutingDoc *doc, Jsonb *account);

/*
 * Does the document satisfy the match object?  The match should have
 * passed match_is_valid(); parts that would not pass it never match.
 */
extern bool routing_doc_matches(const RoutingDoc *doc, JsonbContainer *match);

/*
 * The document's value at key (key_len bytes), a set field first, else the
 * attrs key; false when the document has neither.  For scoring, which
 * reads single features of the same document that matching sees.
 */
extern bool routing_doc_lookup(const RoutingDoc *doc, const char *key,
							   int key_len, JsonbValue *out);

/*
 * Is the container a well-formed match?  When not, and why is not NULL, a
 * sentence saying what is wrong (naming the key) is appended to why.
 */
extern bool match_is_valid(JsonbContainer *match, StringInfo why);

#endif							/* LEADFLOW_MATCHING_H */
