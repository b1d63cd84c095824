"""The Python examples of docs/integration.md, run as they are printed.

test/tools/doc_examples.pl extracts the blocks marked
<!-- example: crm.py --> into test/client/.examples/crm.py, which is
imported and driven the way a CRM back end would, connected as the role
crm_app that the page's backend.sql makes (a member of leadflow_manager,
not a superuser).  The setup runs the page's SQL examples as the superuser
that test/client/run.sh connects as (PGUSER), in a database of its own.

    bash test/client/run.sh python     (a throwaway cluster; Debian's python3-psycopg)
"""
import os
import signal
import subprocess
import sys
import unittest

import psycopg

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PAGE = os.path.join(TOP, "docs", "integration.md")
DB = "leadflow_docs_py"


def example(name):
    return subprocess.run(
        ["perl", os.path.join(TOP, "test", "tools", "doc_examples.pl"), PAGE, name],
        check=True, capture_output=True, text=True,
    ).stdout


def setUpModule():
    global crm, su
    with psycopg.connect(dbname="postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB}")
        admin.execute(f"CREATE DATABASE {DB}")
    su = psycopg.connect(dbname=DB, autocommit=True)
    su.execute("CREATE EXTENSION leadflow")
    su.execute(example("backend.sql"))
    su.execute(example("floor.sql"))

    examples = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".examples")
    os.makedirs(examples, exist_ok=True)
    with open(os.path.join(examples, "crm.py"), "w") as f:
        f.write(example("crm.py"))
    sys.path.insert(0, examples)
    os.environ["PGDATABASE"] = DB
    os.environ["PGUSER"] = "crm_app"
    import crm as module
    crm = module


def tearDownModule():
    su.close()


class Docs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.conn = crm.connect()
        cls.reps = dict(su.execute("SELECT name, id FROM leadflow.rep").fetchall())

    @classmethod
    def tearDownClass(cls):
        cls.conn.close()

    def setUp(self):
        signal.alarm(20)  # no test may wait forever (a lost notification)

    def tearDown(self):
        signal.alarm(0)

    def test_1_connects_as_crm_app(self):
        row = self.conn.execute(
            "SELECT current_user AS who, current_setting('is_superuser') AS su,"
            " pg_has_role('leadflow_manager', 'USAGE') AS manager").fetchone()
        self.assertEqual(row, {"who": "crm_app", "su": "off", "manager": True})
        self.conn.commit()

    def test_2_upsert_inserts_and_routes(self):
        r = crm.upsert_lead(self.conn, "crm-1", "Ann Archer", "ann@acme.example", "web_form",
                            attrs={"employees": "50-200"})
        self.conn.commit()
        self.assertTrue(r["inserted"])
        self.assertIsInstance(r["id"], int)
        self.assertIn(r["owner_id"], self.reps.values())
        self.assertEqual(r["queue"], "default")
        self.assertIsNotNone(r["sla_due_at"].tzinfo)
        type(self).first = r

    def test_3_upsert_again_updates_and_keeps_the_owner(self):
        r = crm.upsert_lead(self.conn, "crm-1", "Ann B. Archer", "ann@acme.example", "web_form",
                            attrs={"budget": "yes"})
        self.conn.commit()
        self.assertFalse(r["inserted"])
        self.assertEqual((r["id"], r["owner_id"]), (self.first["id"], self.first["owner_id"]))
        name, attrs = su.execute("SELECT name, attrs FROM leadflow.lead WHERE id = %s",
                                 (r["id"],)).fetchone()
        self.assertEqual(name, "Ann B. Archer")
        self.assertEqual(attrs, {"employees": "50-200", "budget": "yes"})

    def test_4_upsert_that_updates_routes_nothing(self):
        self.assertEqual([d["kind"] for d in crm.decisions(self.conn, self.first["id"])], ["assign"])
        phantom = su.execute("SELECT count(*) FROM leadflow.decision"
                             " WHERE lead_id NOT IN (SELECT id FROM leadflow.lead)").fetchone()[0]
        self.assertEqual(phantom, 0)
        self.assertEqual(self.conn.execute("SELECT * FROM leadflow.check_invariants()").fetchall(), [])
        self.conn.commit()

    def test_5_log_touch_gives_the_touch_row(self):
        t = crm.log_touch(self.conn, self.first["id"], "call", "connected", "call back Friday")
        self.conn.commit()
        self.assertEqual((t["lead_id"], t["rep_id"], t["channel"], t["outcome"], t["note"]),
                         (self.first["id"], self.first["owner_id"], "call", "connected",
                          "call back Friday"))
        self.assertIsInstance(t["id"], int)

    def test_6_errors_by_sqlstate(self):
        refused = crm.touch_or_explain(self.conn, 999999, "call", "connected")
        self.assertEqual(refused["refused"], "23503")
        self.assertEqual(refused["message"], "lead 999999 does not exist")
        self.assertEqual(crm.touch_or_explain(self.conn, self.first["id"], "fax", "connected")["refused"],
                         "22P02")
        dead = crm.upsert_lead(self.conn, "crm-2", "Bo", "bo@bo.example", "event")
        crm.log_touch(self.conn, dead["id"], "call", "dead", "wrong number")
        closed = crm.touch_or_explain(self.conn, dead["id"], "call", "connected")
        self.assertEqual(closed["refused"], "55000")
        self.assertIn("reopen", closed["hint"])
        self.conn.commit()
        touches = su.execute("SELECT count(*) FROM leadflow.touch").fetchone()[0]
        self.assertEqual(touches, 2, "refused touches wrote nothing, the connection went on")

    def test_7_candidates_as_json(self):
        d = crm.decisions(self.conn, self.first["id"])[0]
        self.conn.commit()
        self.assertEqual(d["kind"], "assign")
        self.assertIsInstance(d["candidates"], list)
        self.assertEqual([c["rep"] for c in d["candidates"] if c["chosen"]], [self.first["owner_id"]])
        raw = su.execute("SELECT candidates FROM leadflow.decision LIMIT 1").fetchone()[0]
        self.assertIsInstance(raw, str, "without the cast: a string of JSON")

    def test_8_listen_hears_a_backlog_alert(self):
        listener = crm.listen()
        try:
            r = crm.upsert_lead(self.conn, "crm-3", "Cy", "cy@cy.example", "web_form", campaign="overflow")
            self.assertIsNone(r["owner_id"])
            self.conn.commit()
            alert = crm.wait_for_alert(listener)
            self.assertEqual((alert["kind"], alert["lead_id"]), ("backlog", r["id"]))
            self.assertEqual(alert["detail"]["queue"], "overflow")
        finally:
            listener.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
