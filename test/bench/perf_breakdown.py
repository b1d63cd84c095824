#!/usr/bin/env python3
"""Where a single-row transaction's backend CPU goes, from a perf profile.

    perf script -i DIR/ten_queues-2.data -F comm,tid,period,ip,sym > s.txt
    python3 test/bench/perf_breakdown.py s.txt US_PER_XACT [bulk]

(DIR from LEADFLOW_BENCH_PERF=DIR bash test/bench/run.sh single_cpu.)
Each sample is counted once, under the first part below whose function is
on its call stack, in this order; US_PER_XACT, the CPU per transaction the
same run printed, turns the shares into microseconds.  With "bulk", the
parts of one lead of a routed INSERT ... SELECT instead (a profile of the
backend during routing_cpu's statement; US_PER_XACT is then the CPU per
lead).  Not a benchmark: run.sh runs only .sql and .sh files.
"""
import sys
from collections import Counter

PARTS = [
    ('route: counters read (caps_load)', ['caps_load']),
    ('route: counter row lock (caps_claim)', ['caps_claim']),
    ('route: turns read (strategy_load_state)', ['strategy_load_state']),
    ('route: account look-up or creation',
     ['account_find', 'account_create_pending', 'account_take_ownership', 'account_reread']),
    ('route: duplicate look-up', ['duplicate_find']),
    ('route: rest of route_decide', ['route_decide']),
    ('routing trigger: the rest', ['leadflow_lead_before_insert']),
    ('flush: turns (strategy_flush)', ['strategy_flush']),
    ('flush: ledger (ledger_flush)', ['ledger_flush']),
    ('flush: counters (caps_flush)', ['caps_flush']),
    ('flush: the rest', ['leadflow_flush_routing_state']),
    ('SECURITY DEFINER: GUC save and restore', ['fmgr_security_definer']),
    ('foreign-key checks (RI triggers, SPI)', ['SPI_execute_snapshot']),
    ('other leadflow triggers',
     ['leadflow_lead_statement', 'leadflow_lead_row_inserted', 'leadflow_lead_inserted']),
    ('commit', ['CommitTransactionCommand']),
    ('lead row: CHECK constraints', ['ExecConstraints']),
    ('lead row: index entries', ['ExecInsertIndexTuples']),
    ('lead row: heap insert', ['heap_insert']),
    ('INSERT: executor start and end', ['standard_ExecutorStart', 'standard_ExecutorEnd']),
    ('client: socket reads and writes', ['pq_getbyte', 'secure_read', '__send', 'secure_write']),
    ('the rest of the statement (bind, plan cache, executor)', ['PostgresMain']),
]
OUTSIDE = 'outside PostgresMain (malloc, brk, page faults)'

BULK_PARTS = [
    ('the ledger: decision rows built and written in batches', ['ledger_decision', 'ledger_flush']),
    ('foreign keys: leadflow\'s check, a hash look-up once locked', ['leadflow_lead_keys_checked']),
    ('the duplicate look-up and the contact lock', ['duplicate_find']),
    ('the account: look-up, re-read, new accounts and owners',
     ['account_find', 'account_reread', 'account_create_pending', 'account_take_ownership']),
    ('counters: members\' counts and claims', ['caps_load', 'caps_claim', 'caps_flush']),
    ('turns', ['strategy_load_state', 'strategy_commit', 'strategy_flush']),
    ('cadence and SLA (business time)', ['route_set_follow_up']),
    ('rules, rank and strategies (the rest of route_decide)', ['route_decide']),
    ('the rest of the routing trigger', ['leadflow_lead_before_insert']),
    ('SECURITY DEFINER and SET search_path: GUC save and restore', ['fmgr_security_definer']),
    ('the lead row: index entries', ['ExecInsertIndexTuples']),
    ('the lead row: heap tuple and WAL', ['heap_insert']),
    ('the lead row: CHECK constraints', ['ExecConstraints']),
    ('AFTER ROW triggers (lead_inserted) and their queue',
     ['ExecARInsertTriggers', 'AfterTriggerEndQuery']),
    ('the input rows (bench_rows)', ['ExecMakeTableFunctionResult']),
    ('the rest of the statement (executor)', ['PostgresMain']),
]


def samples(path):
    """(period, [function names, innermost first]) of each sample."""
    stack, period = [], 0
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            if not line[0].isspace():
                if stack:
                    yield period, stack
                last = line.split()[-1]
                stack, period = [], int(last) if last.isdigit() else 1
            else:
                fields = line.split(None, 1)
                stack.append(fields[1].strip() if len(fields) > 1 else '?')
    if stack:
        yield period, stack


def main():
    path, us = sys.argv[1], float(sys.argv[2])
    parts = BULK_PARTS if sys.argv[3:] == ['bulk'] else PARTS
    shares, total = Counter(), 0
    for period, stack in samples(path):
        total += period
        names = set(stack)
        part = next((p for p, funcs in parts if any(fn in names for fn in funcs)), OUTSIDE)
        shares[part] += period
    print('| part | us per %s | share |' % ('lead' if parts is BULK_PARTS else 'transaction'))
    print('|---|---|---|')
    for part in [p for p, _ in parts] + [OUTSIDE]:
        if shares[part]:
            print('| %s | %.1f | %.1f %% |' % (part, us * shares[part] / total,
                                               100.0 * shares[part] / total))


if __name__ == '__main__':
    main()
