'use strict';
// The Node.js examples of docs/integration.md, run as they are printed:
// test/tools/doc_examples.pl extracts the blocks marked
// <!-- example: crm.js --> into test/client/.examples/crm.js, which is
// loaded as a module and driven the way a CRM back end would, connected
// as the role crm_app that the page's backend.sql makes (a member of
// leadflow_manager, not a superuser).  The setup runs the page's SQL
// examples (backend.sql, floor.sql) as the superuser test/client/run.sh
// connects as, in a database of this file's own.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { Client } = require('pg');

const TOP = path.join(__dirname, '..', '..');
const PAGE = path.join(TOP, 'docs', 'integration.md');
const DB = 'leadflow_docs_js';
const TEST_OPTS = { timeout: 20000 };

const example = (name) =>
	execFileSync('perl', [path.join(TOP, 'test', 'tools', 'doc_examples.pl'), PAGE, name], { encoding: 'utf8' });

let su; // superuser connection to the docs database
let crm; // the page's module
const ids = {};

before(async () => {
	const admin = new Client({ database: 'postgres' });
	await admin.connect();
	try {
		await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
		await admin.query(`CREATE DATABASE ${DB}`);
	} finally {
		await admin.end();
	}
	su = new Client({ database: DB });
	await su.connect();
	await su.query('CREATE EXTENSION leadflow');
	await su.query(example('backend.sql'));
	await su.query(example('floor.sql'));

	const dir = path.join(__dirname, '.examples');
	fs.mkdirSync(dir, { recursive: true });
	fs.writeFileSync(path.join(dir, 'crm.js'), example('crm.js'));
	process.env.PGDATABASE = DB;
	process.env.PGUSER = 'crm_app';
	crm = require(path.join(dir, 'crm.js'));
});

after(async () => {
	await Promise.allSettled([su && su.end(), crm && crm.pool.end()]);
});

const reps = async () => Object.fromEntries(
	(await su.query('SELECT name, id FROM leadflow.rep')).rows.map((r) => [r.name, r.id]));

test('the pool connects as crm_app, a member of leadflow_manager and no superuser', TEST_OPTS, async () => {
	const { rows } = await crm.pool.query(
		`SELECT current_user AS who, current_setting('is_superuser') AS su,
		        pg_has_role('leadflow_manager', 'USAGE') AS manager`);
	assert.deepEqual(rows[0], { who: 'crm_app', su: 'off', manager: true });
});

test('upsertLead inserts and routes a new lead: the owner comes back from RETURNING', TEST_OPTS, async () => {
	const r = await crm.upsertLead({
		externalId: 'crm-1', name: 'Ann Archer', email: 'Ann@Acme.example', source: 'web_form',
		attrs: { employees: '50-200' },
	});
	assert.equal(r.inserted, true);
	assert.match(r.id, /^[0-9]+$/, 'a bigint id arrives as a string');
	assert.ok(Object.values(await reps()).includes(r.owner_id), 'Ana or Ben owns it');
	assert.equal(r.queue, 'default');
	assert.equal(r.stage, 'new');
	assert.ok(r.sla_due_at instanceof Date);
	ids.first = r;
});

test('upsertLead of the same external_id updates the lead and keeps its owner', TEST_OPTS, async () => {
	const r = await crm.upsertLead({
		externalId: 'crm-1', name: 'Ann B. Archer', email: 'ann@acme.example', source: 'web_form',
		attrs: { budget: 'yes' },
	});
	assert.equal(r.inserted, false);
	assert.equal(r.id, ids.first.id);
	assert.equal(r.owner_id, ids.first.owner_id);
	const l = await crm.leadByExternalId('crm-1');
	assert.equal(l.id, ids.first.id);
	const row = (await su.query('SELECT name, email, attrs FROM leadflow.lead WHERE id = $1', [l.id])).rows[0];
	assert.equal(row.name, 'Ann B. Archer');
	assert.equal(row.email, 'ann@acme.example', 'emails are lower-cased');
	assert.deepEqual(row.attrs, { employees: '50-200', budget: 'yes', original_email: 'Ann@Acme.example' });
	assert.equal(await crm.leadByExternalId('crm-404'), null);
});

test('an upsert that updates routes nothing: one decision, no lead decided twice',
	TEST_OPTS, async () => {
		const d = await crm.decisions(ids.first.id);
		assert.deepEqual(d.map((x) => x.kind), ['assign']);
		const phantom = await su.query(
			'SELECT count(*)::int AS n FROM leadflow.decision WHERE lead_id NOT IN (SELECT id FROM leadflow.lead)');
		assert.equal(phantom.rows[0].n, 0, 'no decision about a lead that was never inserted');
		const inv = await crm.pool.query('SELECT * FROM leadflow.check_invariants()');
		assert.deepEqual(inv.rows, []);
	});

test('logTouch: SELECT * FROM log_touch gives the touch row\'s columns', TEST_OPTS, async () => {
	const t = await crm.logTouch(ids.first.id, 'call', 'connected', 'call back Friday');
	assert.match(t.id, /^[0-9]+$/);
	assert.equal(t.lead_id, ids.first.id);
	assert.equal(t.rep_id, ids.first.owner_id, 'the owner\'s touch');
	assert.equal(t.channel, 'call');
	assert.equal(t.outcome, 'connected');
	assert.equal(t.note, 'call back Friday');
	assert.ok(t.at instanceof Date);
	const l = await crm.leadByExternalId('crm-1');
	assert.equal(l.stage, 'working');
	assert.equal(l.touches, 1);
});

test('explainError branches on the SQLSTATE', TEST_OPTS, async () => {
	const refused = async (...args) => {
		try {
			await crm.logTouch(...args);
		} catch (err) {
			return crm.explainError(err);
		}
		assert.fail('the touch should have been refused');
	};
	assert.deepEqual(await refused('999999', 'call', 'connected'),
		{ status: 404, message: 'lead 999999 does not exist' });
	assert.equal((await refused(ids.first.id, 'fax', 'connected')).status, 400);
	const dead = await crm.upsertLead({ externalId: 'crm-2', name: 'Bo', email: 'bo@bo.example', source: 'event' });
	await crm.logTouch(dead.id, 'call', 'dead', 'wrong number');
	const closed = await refused(dead.id, 'call', 'connected');
	assert.equal(closed.status, 409);
	assert.equal(closed.message, `lead ${dead.id} is closed (stage rejected)`);
	assert.throws(() => crm.explainError(Object.assign(new Error('x'), { code: '57014' })), /x/,
		'codes it does not know are thrown on');
});

test('decisions: candidates::jsonb arrives as parsed JSON', TEST_OPTS, async () => {
	const [d] = await crm.decisions(ids.first.id);
	assert.equal(d.kind, 'assign');
	assert.equal(d.to_rep, ids.first.owner_id);
	assert.ok(Array.isArray(d.candidates), 'an array, not a string');
	assert.equal(d.candidates.length, 2);
	const chosen = d.candidates.filter((c) => c.chosen);
	assert.deepEqual(chosen.map((c) => c.rep), [ids.first.owner_id]);
	const raw = await su.query('SELECT candidates FROM leadflow.decision WHERE id = $1', [d.id]);
	assert.equal(typeof raw.rows[0].candidates, 'string', 'without the cast: a string of JSON');
});

test('workList: the rep\'s open leads in order', TEST_OPTS, async () => {
	const list = await crm.workList(ids.first.owner_id);
	assert.ok(list.length >= 1);
	assert.deepEqual(list.map((r) => r.priority), list.map((_, i) => i + 1), 'priority as int from 1');
	const mine = list.find((r) => r.lead_id === ids.first.id);
	assert.equal(mine.name, 'Ann B. Archer');
	assert.equal(mine.stage, 'working');
	assert.equal(mine.next_channel, 'email');
});

test('listenForAlerts hears a backlog alert at commit and reads its row', TEST_OPTS, async () => {
	const heard = [];
	const stop = await crm.listenForAlerts((a) => heard.push(a));
	try {
		const r = await crm.upsertLead({
			externalId: 'crm-3', name: 'Cy', email: 'cy@cy.example', source: 'web_form', campaign: 'overflow',
		});
		assert.equal(r.owner_id, null, 'nobody works the overflow queue');
		assert.equal(r.queue, 'overflow');
		const deadline = Date.now() + 5000;
		while (heard.length === 0 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 20));
		assert.equal(heard.length, 1, 'one alert');
		assert.equal(heard[0].kind, 'backlog');
		assert.equal(heard[0].lead_id, r.id);
		assert.equal(heard[0].detail.queue, 'overflow');
	} finally {
		stop();
	}
});
