#!/usr/bin/perl
# check_layout.pl -- the code map of src/, checked from the code itself.
#
#   perl test/tools/check_layout.pl [--graph] [SRC_DIR]
#
# Two rules:
#  1. A header declares only what its own .c file defines: every function
#     or variable a header X.h declares is defined in X.c (a header with no
#     X.c declares types and macros only).
#  2. No call cycles between C files: file A depends on file B when A uses
#     a function or variable that B defines (and B is not A); the graph of
#     these dependencies has no cycle.
# Prints one line per check -- "layout header X.h ... ok" for each header
# (rule 1), "layout cycles X.c ... ok" for each C file (rule 2), "FAILED"
# instead of "ok" with the reasons below it -- and then "layout ok" or the
# number of failed checks; exits 1 when a check failed.  make test counts
# the lines (test/run-suites.sh).  --graph also prints every file's
# dependencies first.
#
# The parser knows the project's style (pgindent): a definition's name
# starts its line, after the line with its return type.  It is a check, not
# a compiler: it strips comments, strings and preprocessor lines, and reads
# identifiers.
use strict;
use warnings;

my $graph = 0;
if (@ARGV && $ARGV[0] eq '--graph') { $graph = 1; shift @ARGV; }
my $src = shift(@ARGV) // 'src';

sub slurp
{
	my ($path) = @_;
	open(my $fh, '<', $path) or die "$path: $!";
	local $/;
	my $text = <$fh>;
	close $fh;
	return $text;
}

# Comments, string and character literals and preprocessor lines removed;
# newlines kept so that line structure stays.
sub code_only
{
	my ($text) = @_;
	$text =~ s{/\*.*?\*/}{my $c = $&; $c =~ tr/\n//cd; $c}gse;
	$text =~ s{//[^\n]*}{}g;
	$text =~ s{"(?:\\.|[^"\\\n])*"}{""}g;
	$text =~ s{'(?:\\.|[^'\\\n])*'}{''}g;
	# preprocessor lines, with their continuations
	$text =~ s{^[ \t]*#(?:[^\n]*\\\n)*[^\n]*}{}mg;
	return $text;
}

my %c_files = map { m{([^/]+)\.c$} ? ($1 => $_) : () } glob("$src/*.c");
my %h_files = map { m{([^/]+)\.h$} ? ($1 => $_) : () } glob("$src/*.h");

# What each .c file defines with external linkage: functions and variables.
my %definer;      # name -> unit
my %code;         # unit -> code text
for my $unit (sort keys %c_files)
{
	my $text = code_only(slurp($c_files{$unit}));
	$code{$unit} = $text;
	my @lines = split /\n/, $text;
	for my $i (0 .. $#lines)
	{
		my $line = $lines[$i];
		# function definition: "name(" at column 0, the previous line its
		# return type, and a "{" before the next ";"
		if ($line =~ /^([A-Za-z_]\w*)\s*\(/ && $i > 0)
		{
			my $name = $1;
			my $type = $lines[$i - 1];
			next if $type =~ /^\s*$/ || $type =~ /[;{}]\s*$/ && $type !~ /^\w/;
			my $rest = join("\n", @lines[$i .. ($i + 40 > $#lines ? $#lines : $i + 40)]);
			my ($before_brace) = $rest =~ /^([^{;]*)[{;]/s;
			next unless defined $before_brace && $rest =~ /^\Q$before_brace\E\{/s;
			next if $type =~ /\bstatic\b/;
			$definer{$name} = $unit;
			next;
		}
		# variable definition at file scope: "type name = ...;" or "type name;"
		if ($line =~ /^(?!static\b|extern\b|typedef\b|struct\b|enum\b|union\b)[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*(?:=|;)/)
		{
			$definer{$1} = $unit unless $line =~ /\(/ && $line !~ /=/;
		}
	}
}

my %header_problems;    # unit -> [messages]
my %cycle_problems;     # unit -> [messages]

# Rule 1: headers declare only what their .c defines.
for my $unit (sort keys %h_files)
{
	my $text = code_only(slurp($h_files{$unit}));
	# join declarations onto one line each
	$text =~ s/\s+/ /g;
	for my $decl (split /;/, $text)
	{
		next if $decl =~ /\btypedef\b/ || $decl =~ /^\s*(struct|enum|union)\b[^(]*\{/;
		$decl =~ s/^.*\}\s*//;    # the tail after a type body
		my $name;
		if ($decl =~ /\bextern\b.*?\b([A-Za-z_]\w*)\s*\(/ || $decl =~ /^\s*(?:const\s+)?[A-Za-z_][\w \*]*?\b([A-Za-z_]\w*)\s*\([^()]*(?:\([^()]*\)[^()]*)*\)\s*$/)
		{
			$name = $1;
		}
		elsif ($decl =~ /\bextern\b.*?\b([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*$/)
		{
			$name = $1;
		}
		next unless defined $name;
		next if $name =~ /^(PG_FUNCTION_INFO_V1|PG_MODULE_MAGIC)$/;
		my $where = $definer{$name};
		if (!defined $where)
		{
			push @{ $header_problems{$unit} }, "$unit.h declares $name, which no .c file defines";
		}
		elsif ($where ne $unit)
		{
			push @{ $header_problems{$unit} }, "$unit.h declares $name, which $where.c defines";
		}
	}
}

# Rule 2: no cycles among the C files.
my %deps;         # unit -> { unit => [names] }
for my $unit (sort keys %code)
{
	my %seen;
	for my $ident ($code{$unit} =~ /\b([A-Za-z_]\w*)\b/g)
	{
		next if $seen{$ident}++;
		my $where = $definer{$ident};
		next unless defined $where && $where ne $unit;
		push @{ $deps{$unit}{$where} }, $ident;
	}
}

if ($graph)
{
	for my $unit (sort keys %code)
	{
		my @d = sort keys %{ $deps{$unit} || {} };
		print "$unit.c -> ", (@d ? join(', ', map { "$_ (" . join(' ', sort @{ $deps{$unit}{$_} }) . ")" } @d) : '-'), "\n";
	}
}

# Tarjan's strongly connected components; a component of more than one
# file is a cycle.
my ($index, @stack, %on_stack, %idx, %low) = (0);
my @components;
sub connect_unit
{
	my ($v) = @_;
	$idx{$v} = $low{$v} = $index++;
	push @stack, $v;
	$on_stack{$v} = 1;
	for my $w (sort keys %{ $deps{$v} || {} })
	{
		if (!defined $idx{$w})
		{
			connect_unit($w);
			$low{$v} = $low{$w} if $low{$w} < $low{$v};
		}
		elsif ($on_stack{$w})
		{
			$low{$v} = $idx{$w} if $idx{$w} < $low{$v};
		}
	}
	if ($low{$v} == $idx{$v})
	{
		my @component;
		my $w;
		do
		{
			$w = pop @stack;
			$on_stack{$w} = 0;
			push @component, $w;
		} while ($w ne $v);
		push @components, [ sort @component ] if @component > 1;
	}
}
for my $unit (sort keys %code)
{
	connect_unit($unit) unless defined $idx{$unit};
}
for my $component (@components)
{
	my %in = map { $_ => 1 } @$component;
	my @edges;
	for my $a (@$component)
	{
		for my $b (sort keys %{ $deps{$a} || {} })
		{
			push @edges, "$a -> $b (" . join(' ', sort @{ $deps{$a}{$b} }) . ")" if $in{$b};
		}
	}
	my $message = "call cycle among " . scalar(@$component) . " files: "
	  . join(', ', map { "$_.c" } @$component) . "\n    " . join("\n    ", @edges);
	push @{ $cycle_problems{$_} }, $message for @$component;
}

my $failed = 0;
sub report
{
	my ($what, $problems) = @_;
	print "layout $what ... ", ($problems ? "FAILED" : "ok"), "\n";
	return unless $problems;
	$failed++;
	print "    $_\n" for @$problems;
}
report("header $_.h", $header_problems{$_}) for sort keys %h_files;
report("cycles $_.c", $cycle_problems{$_}) for sort keys %code;

if ($failed)
{
	print "layout: $failed checks failed\n";
	exit 1;
}
print "layout ok\n";
exit 0;
