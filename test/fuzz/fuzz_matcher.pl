#!/usr/bin/perl
# SQL-level fuzzer of the rule matcher (src/matching.c).  The matcher reads
# jsonb in place, so it is driven through the server: random matches (valid
# and not) and random leads (attrs plus the columns that override them) go
# through leadflow.match_is_valid, leadflow.check_match, leadflow.matches
# and leadflow.lead_matches, and each answer is checked against a reference
# evaluator written here from the documented semantics:
#
#   - match_is_valid and check_match agree, and agree with the reference
#     validator;
#   - a valid match never makes the matcher fail;
#   - matches() and lead_matches() answer what the reference answers.
#
#   fuzz_matcher.pl SECONDS SEED -- PSQL-ARGS...
#
# psql is run with the arguments given (they name a database where the
# leadflow extension is installed).  Prints "Done N runs in S second(s)"
# like libFuzzer, and exits 1 at the first disagreement, printing the case
# as SQL that replays it.
use strict;
use warnings;
use File::Temp qw(tempfile);
no warnings qw(recursion);

my ($seconds, $seed, $dashes, @psql) = @ARGV;
die "usage: $0 SECONDS SEED -- PSQL-ARGS...\n"
	unless defined $dashes && $dashes eq '--' && @psql && $seconds =~ /^\d+$/ && $seed =~ /^\d+$/;
srand($seed);

my $BATCH = 400;
# a match nests at most this deep (MATCH_MAX_DEPTH in src/matching.c)
my $MAX_DEPTH = 1000;
my @FIELDS = qw(source campaign company country);

# ----------------------------------------------------------------------
# Values: [type, payload]; types null bool num str arr obj.  Objects keep
# their keys in insertion order, distinct (jsonb would keep the last).
# ----------------------------------------------------------------------
my @KEYS = ('a', 'b', 'c', 'tags', 'not', 'source', 'country', 'domain', 'campaign',
	'company', '', 'A', "\x{e4}", 'k"q', 'x y');
my @STRS = ('x', 'y', 'X', '', ' x', "\x{e4}", '1', 'true', 'null', 'gmail.com',
	'acme.test', 'DE', 'web', "a\\b", 'q"uote', "tab\there");
# numbers written many ways: jsonb compares them numerically
my @NUMS = ('0', '-0', '0.0', '1', '1.0', '1.00', '-1', '2', '10', '1e1', '1E+1', '100e-1',
	'0.5', '5e-1', '-0.5', '123456789012345678901234567890',
	'123456789012345678901234567891', '1.000000000000000000001');

sub pick { $_[int(rand(@_))] }

sub rand_scalar {
	my $r = rand();
	return ['null'] if $r < 0.08;
	return ['bool', rand() < 0.5 ? 1 : 0] if $r < 0.2;
	return ['num', pick(@NUMS)] if $r < 0.55;
	return ['str', pick(@STRS)];
}

sub rand_keys {
	my ($n) = @_;
	my %seen;
	my @k = grep { !$seen{$_}++ } map { pick(@KEYS) } 1 .. $n;
	return @k;
}

# A lead's attrs (or a nested value of it).
sub rand_doc_value {
	my ($depth) = @_;
	my $r = rand();
	if ($depth < 4 && $r < 0.15) {
		return ['obj', [map { [$_, rand_doc_value($depth + 1)] } rand_keys(int(rand(5)))]];
	}
	if ($depth < 4 && $r < 0.35) {
		# now and then long enough for the sorted any-of search
		my $n = rand() < 0.2 ? 20 + int(rand(60)) : int(rand(5));
		return ['arr', [map { rand() < 0.05 && $depth < 3 ? rand_doc_value($depth + 1) : rand_scalar() } 1 .. $n]];
	}
	return rand_scalar();
}

sub rand_doc {
	return ['obj', [map { [$_, rand_doc_value(1)] } rand_keys(int(rand(7)))]];
}

# A match: mostly valid, with mistakes (empty or nested arrays, a "not"
# that is no object, scalars at the top) now and then.
sub rand_match_value {
	my ($depth) = @_;
	my $r = rand();
	if ($r < 0.15 && $depth < 6) {
		return rand_match($depth + 1);
	}
	if ($r < 0.4) {
		my $n = rand() < 0.2 ? 20 + int(rand(60)) : 1 + int(rand(4));
		$n = 0 if rand() < 0.03;
		return ['arr', [map { rand() < 0.03 ? rand_doc_value(3) : rand_scalar() } 1 .. $n]];
	}
	return rand_scalar();
}

sub rand_match {
	my ($depth) = @_;
	my @pairs;
	for my $k (rand_keys(int(rand(4)))) {
		if ($k eq 'not' && rand() < 0.9) {
			push @pairs, [$k, $depth < 6 ? rand_match($depth + 1) : ['obj', []]];
		} else {
			push @pairs, [$k, rand_match_value($depth)];
		}
	}
	return ['obj', \@pairs];
}

sub deep_match {
	# nested "not" or key objects, around the depth limit
	my $n = $MAX_DEPTH - 2 + int(rand(4));
	my $key = rand() < 0.5 ? 'not' : 'a';
	my $m = ['obj', [['a', rand_scalar()]]];
	$m = ['obj', [[$key, $m]]] for 2 .. $n;
	return $m;
}

sub top_match {
	my $r = rand();
	return rand_scalar() if $r < 0.02;
	return ['arr', [rand_scalar()]] if $r < 0.03;
	return deep_match() if $r < 0.04;
	return rand_match(1);
}

# ----------------------------------------------------------------------
# JSON text
# ----------------------------------------------------------------------
sub json_str {
	my ($s) = @_;
	$s =~ s/(["\\])/\\$1/g;
	$s =~ s/\t/\\t/g;
	$s =~ s/\n/\\n/g;
	return qq("$s");
}

sub to_json {
	my ($v) = @_;
	my $t = $v->[0];
	return 'null' if $t eq 'null';
	return $v->[1] ? 'true' : 'false' if $t eq 'bool';
	return $v->[1] if $t eq 'num';
	return json_str($v->[1]) if $t eq 'str';
	return '[' . join(', ', map { to_json($_) } @{ $v->[1] }) . ']' if $t eq 'arr';
	return '{' . join(', ', map { json_str($_->[0]) . ': ' . to_json($_->[1]) } @{ $v->[1] }) . '}';
}

# ----------------------------------------------------------------------
# The reference: validator and matcher, from the comment of src/matching.c
# ----------------------------------------------------------------------
sub ref_valid_object {
	my ($obj, $depth) = @_;
	return 0 if $depth > $MAX_DEPTH;
	for my $p (@{ $obj->[1] }) {
		my ($k, $v) = @$p;
		return 0 if $k eq 'not' && $v->[0] ne 'obj';
		if ($v->[0] eq 'arr') {
			return 0 if !@{ $v->[1] } || grep { $_->[0] eq 'arr' || $_->[0] eq 'obj' } @{ $v->[1] };
		}
		return 0 if $v->[0] eq 'obj' && !ref_valid_object($v, $depth + 1);
	}
	return 1;
}

sub ref_valid { my ($m) = @_; return $m->[0] eq 'obj' && ref_valid_object($m, 1) }

# A number as sign, digits without leading or trailing zeros, and the
# position of the decimal point: equal numbers give equal strings.
sub canon_num {
	my ($s) = @_;
	my ($sign, $int, $frac, $exp) = $s =~ /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/
		or die "bad number $s";
	$frac //= '';
	$exp //= 0;
	my $digits = $int . $frac;
	my $point = length($int) + $exp;
	while ($digits =~ s/^0//) { $point--; }
	$digits =~ s/0+$//;
	return '0' if $digits eq '';
	return "$sign$digits\@$point";
}

sub scalars_equal {
	my ($a, $b) = @_;
	return 0 if $a->[0] ne $b->[0];
	my $t = $a->[0];
	return 1 if $t eq 'null';
	return $a->[1] == $b->[1] if $t eq 'bool';
	return canon_num($a->[1]) eq canon_num($b->[1]) if $t eq 'num';
	return $a->[1] eq $b->[1] if $t eq 'str';
	return 0;    # containers equal no scalar
}

sub value_has {
	my ($docval, $w) = @_;
	return scalars_equal($docval, $w) unless $docval->[0] eq 'arr';
	return scalar grep { scalars_equal($_, $w) } @{ $docval->[1] };
}

# $doc: { fields => {name => string}, attrs => obj value or undef }
sub ref_lookup {
	my ($doc, $k) = @_;
	return ['str', $doc->{fields}{$k}] if defined $doc->{fields}{$k};
	return undef unless $doc->{attrs};
	for my $p (@{ $doc->{attrs}[1] }) {
		return $p->[1] if $p->[0] eq $k;
	}
	return undef;
}

sub ref_matches {
	my ($doc, $match) = @_;
	for my $p (@{ $match->[1] }) {
		my ($k, $want) = @$p;
		if ($k eq 'not') {
			return 0 unless $want->[0] eq 'obj' && !ref_matches($doc, $want);
			next;
		}
		my $v = ref_lookup($doc, $k);
		return 0 unless defined $v;
		if ($want->[0] eq 'arr') {
			return 0 unless grep { value_has($v, $_) } @{ $want->[1] };
		} elsif ($want->[0] eq 'obj') {
			return 0 unless $v->[0] eq 'obj' && ref_matches({ fields => {}, attrs => $v }, $want);
		} else {
			return 0 unless value_has($v, $want);
		}
	}
	return 1;
}

# The email's domain: after the last '@', trimmed of white space, in
# lower case (ASCII here); none when empty.
sub ref_domain {
	my ($email) = @_;
	return undef unless defined $email && $email =~ /\@([^\@]*)$/;
	my $d = $1;
	$d =~ s/^[ \t\n\r\f\x0b]+//;
	$d =~ s/[ \t\n\r\f\x0b]+$//;
	return $d eq '' ? undef : lc $d;
}

my @EMAILS = ('u@Acme.TEST', 'x@@gmail.com', 'no-at', 'a@b@GMAIL.com', ' @ ', "u@ gmail.com\t",
	'u@', '@x', 'U@X.Y ', 'u@acme.test');

sub rand_lead {
	my %cols;
	for my $f (@FIELDS) {
		$cols{$f} = rand() < 0.5 ? undef : pick(@STRS);
	}
	$cols{email} = rand() < 0.3 ? undef : pick(@EMAILS);
	return \%cols;
}

# ----------------------------------------------------------------------
# SQL
# ----------------------------------------------------------------------
sub sql_text {
	my ($s) = @_;
	return 'NULL' unless defined $s;
	die "dollar in generated text" if $s =~ /\$/;
	return "\$f\$$s\$f\$";
}

my $SETUP = <<'SQL';
SET client_min_messages = warning;
DROP TABLE IF EXISTS fuzz_lead CASCADE;
CREATE TABLE fuzz_lead (attrs jsonb, source text, campaign text, company text,
                        country text, email text);
-- 'invalid', or "<matches>,<lead_matches>", or what went wrong
CREATE OR REPLACE FUNCTION fuzz_eval(l fuzz_lead, m jsonb) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    valid boolean := leadflow.match_is_valid(m);
    plain boolean;
    lead boolean;
BEGIN
    BEGIN
        PERFORM leadflow.check_match(m);
        IF NOT valid THEN
            RETURN 'check_match accepts what match_is_valid refuses';
        END IF;
    EXCEPTION WHEN invalid_parameter_value THEN
        IF valid THEN
            RETURN 'check_match refuses what match_is_valid accepts: ' || SQLERRM;
        END IF;
        RETURN 'invalid';
    END;
    BEGIN
        plain := leadflow.matches(l.attrs, m);
        lead := leadflow.lead_matches(l, m);
    EXCEPTION WHEN OTHERS THEN
        RETURN 'matcher error ' || SQLSTATE || ': ' || SQLERRM;
    END;
    RETURN plain::text || ',' || lead::text;
END;
$$;
SQL

sub run_psql {
	my ($sql) = @_;
	my ($fh, $file) = tempfile(UNLINK => 1);
	binmode($fh, ':utf8');
	print $fh $sql;
	close $fh;
	my $out = qx{@{[ join ' ', map { "'$_'" } @psql ]} -X -q -A -t -F '|' -v ON_ERROR_STOP=1 -f '$file' 2>&1};
	die "psql failed ($?):\n$out" if $?;
	return $out;
}

run_psql($SETUP);

my $runs = 0;
my $start = time;
binmode(STDOUT, ':utf8');
while (time - $start < $seconds || $runs == 0) {
	my @cases;
	my @rows;
	for my $i (1 .. $BATCH) {
		my $doc = rand_doc();
		my $match = top_match();
		my $lead = rand_lead();
		push @cases, [$doc, $match, $lead];
		push @rows, sprintf("(%d, ROW(%s::jsonb, %s, %s, %s, %s, %s)::fuzz_lead, %s::jsonb)",
			$i, sql_text(to_json($doc)), (map { sql_text($lead->{$_}) } @FIELDS, 'email'),
			sql_text(to_json($match)));
	}
	my $out = run_psql("SELECT i, fuzz_eval(l, m) FROM (VALUES\n" . join(",\n", @rows)
		. "\n) AS t(i, l, m) ORDER BY i;\n");
	my @lines = split /\n/, $out;
	die "expected $BATCH answers, got " . scalar(@lines) . ":\n$out" unless @lines == $BATCH;
	for my $line (@lines) {
		my ($i, $got) = split /\|/, $line, 2;
		my ($doc, $match, $lead) = @{ $cases[$i - 1] };
		my $want;
		if (!ref_valid($match)) {
			$want = 'invalid';
		} else {
			my %fields = map { $_ => $lead->{$_} } @FIELDS;
			$fields{domain} = ref_domain($lead->{email});
			$want = (ref_matches({ fields => {}, attrs => $doc }, $match) ? 'true' : 'false') . ','
				. (ref_matches({ fields => \%fields, attrs => $doc }, $match) ? 'true' : 'false');
		}
		$runs++;
		next if $got eq $want;
		my $case = sprintf("SELECT fuzz_eval(ROW(%s::jsonb, %s, %s, %s, %s, %s)::fuzz_lead, %s::jsonb);\n",
			sql_text(to_json($doc)), (map { sql_text($lead->{$_}) } @FIELDS, 'email'),
			sql_text(to_json($match)));
		print "fuzz_matcher: disagreement (seed $seed, run $runs)\n";
		print "  server:    $got\n  reference: $want\n";
		print "  case: ", length($case) > 600 ? substr($case, 0, 600) . "...\n" : $case;
		print "Test unit (to replay in a database with leadflow):\n", $SETUP, $case;
		exit 1;
	}
}
my $elapsed = time - $start;
printf "Done %d runs in %d second(s)\n", $runs, $elapsed;
exit 0;
