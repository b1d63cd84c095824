# The pgbench script of one single-row INSERT transaction into TARGET
# (bare: bare_lead; reference: ref.lead; one_queue, ten_queues:
# leadflow.lead), for pgbench.sh and single_cpu.sh (sourced; not a
# benchmark of its own).  The same rows bench_rows() makes, from a random
# number (collisions, hence duplicates, are negligible at 1e9).  one_queue
# leads differ only in what the rules match: country D4, a source and a
# campaign no earlier rule names, so rule 4 sends every one to q4.
single_row_script() {
	local target=$1 table match
	case $target in
	bare) table=bare_lead ;;
	reference) table=ref.lead ;;
	*) table=leadflow.lead ;;
	esac
	if [ "$target" = one_queue ]; then
		match="'web_form', 'c1', 'D4'"
	else
		match="(ARRAY['web_form', 'purchased_list', 's2', 's5', 's8', 's11'])[1 + :g % 6],
        'c' || (:g % 40),
        (ARRAY['C1', 'D4', 'C7', 'US', 'DE'])[1 + :g % 5]"
	fi
	cat <<SQL
\set g random(1, 1000000000)
INSERT INTO $table (email, source, campaign, country, attrs)
VALUES ('p' || :g || CASE WHEN :g % 4 = 0 THEN '@gmail.com' ELSE '@d' || (:g % 5000) || '.example' END,
        $match,
        jsonb_build_object('segment', (ARRAY['smb', 'mid', 'ent'])[1 + :g % 3], 'employees', :g % 1000));
SQL
}

# single_row_scripts DIR TARGET...: DIR/TARGET.sql for each.
single_row_scripts() {
	local dir=$1 target
	shift
	for target in "$@"; do
		single_row_script "$target" >"$dir/$target.sql"
	done
}
