'use strict';
// leadflow through node-postgres, the way a CRM back end uses it: leads
// inserted with parameterized queries and their owner read back with
// RETURNING, touches logged, errors told apart by SQLSTATE, the work list
// read, and alerts received through LISTEN leadflow_alert when the sweep
// reassigns a lead.
//
// Connects with the libpq environment variables (PGHOST, PGPORT, PGDATABASE,
// PGUSER) as a superuser: leadflow.clock, the fixed "now" the scenario runs
// on, may only be set by one.  test/client/run.sh starts a throwaway cluster
// and sets them.  The tests run in order and build on each other.
//
// node-postgres returns bigint (int8) columns as strings: lead and touch ids
// and work_list.priority arrive as strings, integer columns as numbers,
// timestamptz as Date.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Client } = require('pg');

const CLOCK = '2026-03-09 09:00:00+00'; // a Monday, opening time
const CLOCK_DATE = new Date('2026-03-09T09:00:00Z');
const SWEEP_AS_OF = '2026-03-09 10:30:00+00'; // past the first-touch SLA (1 h)
const HOUR = 60 * 60 * 1000;
const WAIT_MS = 5000; // the longest any wait for a notification may take
const TEST_OPTS = { timeout: 20000 };

const ALERT_CHANNEL = 'leadflow_alert';
const SYNC_CHANNEL = 'leadflow_client_test_sync';

let writer; // the CRM back end's connection
let listener; // a front end's connection, LISTENing for alerts
const notes = []; // every notification the listener received, in order

// The scenario's state, filled in as the tests go.
const rep = {}; // name -> id
const lead = {}; // key -> id (a string: bigint)

function newClient() {
	return new Client({
		application_name: 'leadflow-client-test',
		connectionTimeoutMillis: 5000,
		statement_timeout: 10000,
		query_timeout: 15000,
	});
}

// A connection used for writes: leadflow's clock fixed for the session.
async function connectWriter() {
	const c = newClient();
	try {
		await c.connect();
		await c.query(`SET leadflow.clock = '${CLOCK}'`);
		const { rows } = await c.query("SELECT current_setting('leadflow.clock')::timestamptz AS clock");
		assert.deepEqual(rows[0].clock, CLOCK_DATE);
	} catch (err) {
		await c.end().catch(() => {}); // an open socket would keep node running
		throw err;
	}
	return c;
}

const alerts = () => notes.filter((n) => n.channel === ALERT_CHANNEL);

// Resolves once predicate() holds, checked on every notification; rejects
// after ms milliseconds.
function waitFor(predicate, ms, what) {
	return new Promise((resolve, reject) => {
		const done = (err) => {
			clearTimeout(timer);
			listener.off('notification', check);
			if (err) reject(err);
			else resolve();
		};
		const check = () => {
			if (predicate()) done();
		};
		const timer = setTimeout(() => done(new Error(
			`timed out after ${ms} ms waiting for ${what}; received: ` +
			JSON.stringify(notes.map((n) => [n.channel, n.payload])))), ms);
		listener.on('notification', check);
		check();
	});
}

// A deterministic "nothing arrived so far": the listener notifies itself on
// a side channel and waits for it.  PostgreSQL's notification queue is in
// commit order, so anything committed (or sent outside a transaction) before
// this sentinel is delivered before it; no sleeping and hoping.
let syncSeq = 0;
async function syncListener() {
	const token = `sync-${++syncSeq}`;
	const arrived = waitFor(() => notes.some((n) => n.channel === SYNC_CHANNEL && n.payload === token),
		WAIT_MS, `the sentinel ${token}`);
	await listener.query('SELECT pg_notify($1, $2)', [SYNC_CHANNEL, token]);
	await arrived;
}

async function logTouch(leadId, channel, outcome, note = null) {
	const { rows } = await writer.query('SELECT * FROM leadflow.log_touch($1, $2, $3, $4)',
		[leadId, channel, outcome, note]);
	assert.equal(rows.length, 1);
	return rows[0];
}

async function leadRow(c, id) {
	const { rows } = await c.query(
		`SELECT owner_id, stage, cadence_step, touches, first_touch_at, last_touch_at,
		        next_touch_at, sla_due_at, reassignments
		   FROM leadflow.lead WHERE id = $1`, [id]);
	assert.equal(rows.length, 1, `lead ${id} exists`);
	return rows[0];
}

before(async () => {
	writer = await connectWriter();
	listener = newClient();
	await listener.connect();
	listener.on('notification', (n) => notes.push(n));
	await listener.query(`LISTEN ${ALERT_CHANNEL}`);
	await listener.query(`LISTEN ${SYNC_CHANNEL}`);
});

after(async () => {
	await Promise.allSettled([writer && writer.end(), listener && listener.end()]);
});

test('setup: extension, a clean slate, two reps and their manager, a round-robin queue, a rule', TEST_OPTS, async () => {
	const su = await writer.query("SELECT current_setting('is_superuser') AS su");
	assert.equal(su.rows[0].su, 'on', 'the tests connect as a superuser (leadflow.clock needs one)');

	await writer.query('CREATE EXTENSION IF NOT EXISTS leadflow');
	const now = await writer.query('SELECT leadflow.now() AS now');
	assert.deepEqual(now.rows[0].now, CLOCK_DATE, 'leadflow.now() follows leadflow.clock');
	await writer.query(`TRUNCATE leadflow.lead, leadflow.decision, leadflow.alert, leadflow.rule,
	                             leadflow.account, leadflow.rep RESTART IDENTITY CASCADE`);
	await writer.query("DELETE FROM leadflow.queue WHERE name <> 'default'");

	let r = await writer.query(
		'INSERT INTO leadflow.rep (name, max_new_per_day) VALUES ($1, $2) RETURNING id', ['Mia', 50]);
	rep.Mia = r.rows[0].id;
	r = await writer.query(
		`INSERT INTO leadflow.rep (name, manager_id, max_new_per_day)
		 VALUES ($1, $3, 50), ($2, $3, 50) RETURNING id, name`, ['Ana', 'Ben', rep.Mia]);
	for (const row of r.rows) rep[row.name] = row.id;
	assert.deepEqual(rep, { Mia: 1, Ana: 2, Ben: 3 }, 'RESTART IDENTITY numbered the reps from 1');

	await writer.query(
		"INSERT INTO leadflow.queue (name, strategy, sticky_account) VALUES ($1, 'round_robin', false)",
		['inside']);
	await writer.query('INSERT INTO leadflow.queue_member (queue, rep_id) VALUES ($1, $2), ($1, $3)',
		['inside', rep.Ana, rep.Ben]);
	r = await writer.query(
		'INSERT INTO leadflow.rule (priority, name, match, queue) VALUES ($1, $2, $3, $4) RETURNING id, match',
		[1, 'inside sales', { campaign: 'inside' }, 'inside']);
	assert.deepEqual(r.rows[0].match, { campaign: 'inside' }, 'a jsonb parameter round-trips as an object');

	r = await writer.query(
		`SELECT q.strategy, q.first_touch_sla, array_agg(m.rep_id ORDER BY m.rep_id) AS members
		   FROM leadflow.queue q JOIN leadflow.queue_member m ON m.queue = q.name
		  WHERE q.name = $1 GROUP BY q.name`, ['inside']);
	assert.equal(r.rows.length, 1);
	assert.equal(r.rows[0].strategy, 'round_robin');
	assert.deepEqual(r.rows[0].members, [rep.Ana, rep.Ben]);
	assert.deepEqual({ ...r.rows[0].first_touch_sla }, { hours: 1 }, 'first-touch SLA of one hour');
});

test('INSERT ... RETURNING: round robin alternates owners, first touch due now, SLA an hour later', TEST_OPTS, async () => {
	const people = [
		['first', 'Ann Archer', 'ann@acme.test', 'Acme'],
		['second', 'Bob Brown', 'bob@brown.test', 'Brown Ltd'],
		['third', 'Cat Cole', 'cat@cole.test', 'Cole & Co'],
		['fourth', 'Dan Dorn', 'dan@dorn.test', 'Dorn AG'],
	];
	const owners = [];
	for (const [key, name, email, company] of people) {
		const { rows } = await writer.query(
			`INSERT INTO leadflow.lead (name, email, company, source, campaign, attrs)
			 VALUES ($1, $2, $3, $4, $5, $6)
			 RETURNING id, owner_id, queue, next_touch_at, sla_due_at`,
			[name, email, company, 'web_form', 'inside', { employees: '50-200' }]);
		assert.equal(rows.length, 1);
		const row = rows[0];
		assert.match(row.id, /^[0-9]+$/, 'a bigint id arrives as a string');
		assert.equal(row.queue, 'inside', `${key} lead matched the rule`);
		assert.ok(row.next_touch_at instanceof Date, 'timestamptz arrives as a Date');
		assert.deepEqual(row.next_touch_at, CLOCK_DATE, 'first step (call@0) is due at the clock');
		assert.deepEqual(row.sla_due_at, new Date(CLOCK_DATE.getTime() + HOUR), 'SLA one business hour later');
		lead[key] = row.id;
		owners.push(row.owner_id);
	}
	assert.deepEqual(owners, [rep.Ana, rep.Ben, rep.Ana, rep.Ben], 'round robin alternates, lowest id first');
});

test('log_touch returns the touch row and moves the lead on', TEST_OPTS, async () => {
	// Ben reaches his lead: new -> working, the cadence advances.
	const t = await logTouch(lead.second, 'call', 'connected', 'call back Friday');
	assert.match(t.id, /^[0-9]+$/);
	assert.equal(t.lead_id, lead.second);
	assert.equal(t.rep_id, rep.Ben, 'the touch is the owner\'s');
	assert.deepEqual(t.at, CLOCK_DATE);
	assert.equal(t.channel, 'call');
	assert.equal(t.outcome, 'connected');
	assert.equal(t.note, 'call back Friday');
	assert.equal(t.referral, null);

	let l = await leadRow(writer, lead.second);
	assert.equal(l.stage, 'working');
	assert.equal(l.cadence_step, 1);
	assert.equal(l.touches, 1);
	assert.deepEqual(l.first_touch_at, CLOCK_DATE);
	assert.deepEqual(l.next_touch_at, new Date(CLOCK_DATE.getTime() + HOUR), 'next step email@1h');
	assert.ok(l.sla_due_at > l.next_touch_at, 'the touch SLA runs from the next step');

	// Ana does not reach her second lead: working too, next step not due yet.
	const t2 = await logTouch(lead.third, 'call', 'not_reached');
	assert.equal(t2.rep_id, rep.Ana);
	assert.equal(t2.note, null);
	l = await leadRow(writer, lead.third);
	assert.equal(l.stage, 'working');
	assert.equal(l.cadence_step, 1);

	// Ben's other lead is dead: closed.
	const t3 = await logTouch(lead.fourth, 'call', 'dead', 'wrong number');
	assert.equal(t3.outcome, 'dead');
	l = await leadRow(writer, lead.fourth);
	assert.equal(l.stage, 'rejected');
});

test('log_touch refuses unknown and closed leads and bad values with their SQLSTATE; nothing is written', TEST_OPTS, async () => {
	const countTouches = async () =>
		(await writer.query('SELECT count(*)::int AS n FROM leadflow.touch')).rows[0].n;
	const before = await countTouches();
	assert.equal(before, 3);

	await assert.rejects(logTouch('999999', 'call', 'connected'), (err) => {
		assert.equal(err.code, '23503');
		assert.equal(err.message, 'lead 999999 does not exist');
		return true;
	});
	await assert.rejects(logTouch(lead.fourth, 'call', 'connected'), (err) => {
		assert.equal(err.code, '55000');
		assert.equal(err.message, `lead ${lead.fourth} is closed (stage rejected)`);
		assert.equal(err.detail, 'Touches are logged on leads in stage new or working.');
		assert.match(err.hint, /leadflow\.reopen\(lead_id, reason\)/);
		return true;
	});
	await assert.rejects(logTouch(lead.second, 'fax', 'connected'), (err) => {
		assert.equal(err.code, '22P02');
		// the type is schema-qualified when leadflow is not on the search_path
		assert.match(err.message, /^invalid input value for enum (leadflow\.)?channel: "fax"$/);
		return true;
	});
	await assert.rejects(logTouch(lead.second, 'call', 'voicemail'), (err) => {
		assert.equal(err.code, '22P02');
		// the type is schema-qualified when leadflow is not on the search_path
		assert.match(err.message, /^invalid input value for enum (leadflow\.)?outcome: "voicemail"$/);
		return true;
	});

	assert.equal(await countTouches(), before, 'refused touches write nothing');
	const l = await leadRow(writer, lead.second);
	assert.equal(l.touches, 1);
	assert.equal(l.cadence_step, 1);
});

test('work_list: a rep\'s open leads, the touch due now first', TEST_OPTS, async () => {
	const sql = `SELECT rep_id, rep, priority, lead_id, name, company, email, stage,
	                    next_channel, next_step, cadence_steps, next_touch_at, due,
	                    minutes_overdue, sla_due_at, sla_breached, touches, last_touch_at
	               FROM leadflow.work_list WHERE rep_id = $1 ORDER BY priority`;
	const ana = (await writer.query(sql, [rep.Ana])).rows;
	assert.deepEqual(ana.map((r) => [r.priority, r.lead_id]), [['1', lead.first], ['2', lead.third]],
		'the untouched lead, due now, before the one whose next step is in an hour');
	const [due, later] = ana;
	assert.equal(due.rep, 'Ana');
	assert.equal(due.name, 'Ann Archer');
	assert.equal(due.company, 'Acme');
	assert.equal(due.email, 'ann@acme.test');
	assert.equal(due.stage, 'new');
	assert.equal(due.next_channel, 'call');
	assert.equal(due.next_step, 1);
	assert.equal(due.cadence_steps, 10);
	assert.deepEqual(due.next_touch_at, CLOCK_DATE);
	assert.equal(due.due, true);
	assert.equal(due.minutes_overdue, 0);
	assert.equal(due.sla_breached, false);
	assert.equal(due.touches, 0);
	assert.equal(due.last_touch_at, null);

	assert.equal(later.stage, 'working');
	assert.equal(later.next_channel, 'email');
	assert.equal(later.next_step, 2);
	assert.equal(later.due, false);
	assert.equal(later.touches, 1);
	assert.deepEqual(later.last_touch_at, CLOCK_DATE);

	const ben = (await writer.query(sql, [rep.Ben])).rows;
	assert.deepEqual(ben.map((r) => r.lead_id), [lead.second], 'the closed lead is not on the list');
	assert.equal(ben[0].stage, 'working');
});

test('a sweep that is rolled back sends no alert', TEST_OPTS, async () => {
	await syncListener();
	assert.equal(alerts().length, 0, 'no alert before the sweep');
	await writer.query('BEGIN');
	try {
		const { rows } = await writer.query('SELECT * FROM leadflow.sweep($1)', [SWEEP_AS_OF]);
		assert.deepEqual(rows.find((r) => r.action === 'sla_reassigned'), { action: 'sla_reassigned', leads: 1 });
	} finally {
		await writer.query('ROLLBACK');
	}
	await syncListener();
	assert.deepEqual(alerts().map((n) => n.payload), [], 'a rolled-back sweep notifies nobody');
	assert.equal((await leadRow(writer, lead.first)).owner_id, rep.Ana, 'and moves nothing');
});

test('the sweep reassigns the untouched lead; LISTEN leadflow_alert hears of it at commit, not before', TEST_OPTS, async () => {
	await writer.query('BEGIN');
	let inTx;
	try {
		const { rows } = await writer.query('SELECT * FROM leadflow.sweep($1)', [SWEEP_AS_OF]);
		assert.deepEqual(rows, [
			{ action: 'sla_reassigned', leads: 1 },
			{ action: 'sla_escalated', leads: 0 },
			{ action: 'sla_kept', leads: 0 },
			{ action: 'handed_off', leads: 0 },
			{ action: 'handoff_kept', leads: 0 },
			{ action: 'backlog_assigned', leads: 0 },
		]);
		inTx = (await writer.query(
			'SELECT id, kind, lead_id, rep_id FROM leadflow.alert ORDER BY id')).rows;
		assert.deepEqual(inTx.map((a) => [a.kind, a.lead_id, a.rep_id]), [
			['sla_breach', lead.first, rep.Mia],
			['reassigned', lead.first, rep.Ben],
		], 'the sweep\'s transaction sees its alert rows');

		// Not committed yet: the listener has neither the rows nor a notification.
		await syncListener();
		assert.deepEqual(alerts().map((n) => n.payload), [], 'nothing is sent before COMMIT');
		const seen = await listener.query('SELECT count(*)::int AS n FROM leadflow.alert');
		assert.equal(seen.rows[0].n, 0);
	} catch (err) {
		await writer.query('ROLLBACK');
		throw err;
	}
	await writer.query('COMMIT');

	await waitFor(() => alerts().length >= 2, WAIT_MS, 'two leadflow_alert notifications');
	await syncListener(); // anything more would have arrived by now
	const got = alerts();
	assert.equal(got.length, 2, 'one notification per alert, no more');
	for (const n of got) assert.equal(n.processId, writer.processID, 'sent by the sweeping session');
	const payloads = got.map((n) => JSON.parse(n.payload));
	assert.deepEqual(payloads.map((p) => [p.kind, String(p.lead_id), p.rep_id]), [
		['sla_breach', lead.first, rep.Mia], // to Ana's manager
		['reassigned', lead.first, rep.Ben], // to the new owner
	]);
	assert.deepEqual(payloads.map((p) => String(p.id)), inTx.map((a) => a.id), 'payload ids are the alert rows');
	for (const p of payloads) {
		assert.deepEqual(Object.keys(p).sort(), ['id', 'kind', 'lead_id', 'rep_id'],
			'ids and the kind only: any role may LISTEN');
	}
	// the rest is in the rows, which a front end reads by id
	const rows = (await listener.query(
		'SELECT id, at, detail FROM leadflow.alert WHERE id = ANY($1::bigint[]) ORDER BY id',
		[payloads.map((p) => String(p.id))])).rows;
	assert.equal(rows.length, 2);
	for (const a of rows) {
		assert.deepEqual(new Date(a.at), new Date('2026-03-09T10:30:00Z'), 'at is the sweep\'s as_of');
		assert.equal(a.detail.from_rep, 'Ana');
		assert.equal(a.detail.queue, 'inside');
	}
	assert.equal(rows[1].detail.to_rep, 'Ben');

	// The lead changed hands, for every session now.
	const l = await leadRow(listener, lead.first);
	assert.equal(l.owner_id, rep.Ben, 'the lead nobody touched went to the other rep');
	assert.equal(l.reassignments, 1);
	assert.deepEqual(l.next_touch_at, new Date('2026-03-09T10:30:00Z'), 'its cadence starts again with Ben');
	const d = await listener.query(
		'SELECT kind, from_rep, to_rep FROM leadflow.decision WHERE lead_id = $1 ORDER BY id', [lead.first]);
	assert.deepEqual(d.rows.map((r) => [r.kind, r.from_rep, r.to_rep]), [
		['assign', null, rep.Ana],
		['reassign_sla', rep.Ana, rep.Ben],
	], 'the ledger records both decisions');
	const ben = await listener.query(
		'SELECT lead_id FROM leadflow.work_list WHERE rep_id = $1 ORDER BY lead_id', [rep.Ben]);
	assert.deepEqual(ben.rows.map((r) => r.lead_id), [lead.first, lead.second], 'now on Ben\'s work list');
});
