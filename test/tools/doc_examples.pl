#!/usr/bin/perl
# doc_examples.pl -- the examples of the documentation, as the tests run them.
#
# The examples live in the Markdown itself, where a reader sees them; a
# comment line right before a fenced block says what it is:
#
#   <!-- example: NAME -->     an example the tests run.  Blocks of one file
#                              with the same NAME are one script, in order.
#                              NAME's ending says how it runs (see below).
#   <!-- error of: NAME -->    the exact error (psql's ERROR, DETAIL, HINT
#                              lines) that the example NAME ends with.
#   <!-- output -->            what something prints, shown to the reader;
#                              not run.
#
# How the tests run NAME (test/t/011_docs.pl, test/client/):
#   *.sql   psql -v ON_ERROR_STOP=1 as a superuser, in a fresh database
#           after CREATE EXTENSION leadflow, on a server configured as
#           docs/operations.md's *.conf example says (an example with an
#           error of: block must fail with exactly that error instead);
#   *.conf  appended to that server's postgresql.conf before it starts;
#   *.sh    bash -e with PGHOST, PGPORT and PGUSER naming that server, in
#           an empty directory, with a database crm where leadflow is
#           installed and the README's quick start has run;
#   *.js    test/client/docs.test.js loads it as a module (node-postgres);
#   *.py    test/client/docs_test.py loads it as a module (psycopg).
#
# Extracting them rather than keeping them in test files that the docs
# point to keeps what a reader copies and what the tests run the same
# text, in one place, and the reader never has to leave the page.
#
#   doc_examples.pl FILE NAME            print example NAME of FILE
#   doc_examples.pl --error FILE NAME    print the error of example NAME
#   doc_examples.pl --list FILE...       print FILE<tab>NAME per example
#   doc_examples.pl --check FILE...      every fenced block is marked, and
#                                        every error of: names an example;
#                                        exit 1 listing what is not
#   doc_examples.pl --section TITLE FILE ...  only the section of FILE
#                                        whose heading is TITLE (the
#                                        README's "Quick start")
use strict;
use warnings;

my $mode = 'print';
my $section;
while (@ARGV && $ARGV[0] =~ /^--/)
{
	my $opt = shift @ARGV;
	if ($opt eq '--section') { $section = shift @ARGV; }
	elsif ($opt =~ /^--(error|list|check)$/) { $mode = $1; }
	else { die "doc_examples.pl: unknown option $opt\n"; }
}

# blocks(FILE): every fenced block as { mark, name, line, text }.
sub blocks
{
	my ($file) = @_;
	open(my $fh, '<', $file) or die "$file: $!\n";
	my @lines = <$fh>;
	close $fh;
	my (@found, $mark, $name, $in_section);
	$in_section = !defined $section;
	for (my $i = 0; $i < @lines; $i++)
	{
		my $line = $lines[$i];
		if (defined $section && $line =~ /^(#+)\s+(.*?)\s*$/)
		{
			$in_section = $2 eq $section;
			next;
		}
		next unless $in_section;
		if ($line =~ /^\s*<!--\s*(example|error of):\s*(\S+)\s*-->\s*$/)
		{
			($mark, $name) = ($1, $2);
			next;
		}
		if ($line =~ /^\s*<!--\s*output\s*-->\s*$/)
		{
			($mark, $name) = ('output', undef);
			next;
		}
		# a block may be indented (in a list item): its lines lose the indent
		if ($line =~ /^( *)(```+|~~~+)/)
		{
			my ($indent, $fence) = (length($1), $2);
			my $start = $i + 1;
			my $text = '';
			for ($i++; $i < @lines && $lines[$i] !~ /^ *\Q$fence\E\s*$/; $i++)
			{
				(my $content = $lines[$i]) =~ s/^ {0,$indent}//;
				$text .= $content;
			}
			push @found, { mark => $mark, name => $name, line => $start, text => $text };
			($mark, $name) = (undef, undef);
			next;
		}
		# a marker must come right before its block (blank lines aside)
		($mark, $name) = (undef, undef) if $line =~ /\S/;
	}
	return @found;
}

if ($mode eq 'print' || $mode eq 'error')
{
	my ($file, $name) = @ARGV;
	die "usage: doc_examples.pl [--error] FILE NAME\n" unless defined $name;
	my $want = $mode eq 'print' ? 'example' : 'error of';
	my @text = map { $_->{text} }
	  grep { defined $_->{mark} && $_->{mark} eq $want && $_->{name} eq $name } blocks($file);
	die "$file has no $want: $name\n" unless @text;
	print join('', @text);
	exit 0;
}

if ($mode eq 'list')
{
	for my $file (@ARGV)
	{
		my %seen;
		for my $b (blocks($file))
		{
			next unless defined $b->{mark} && $b->{mark} eq 'example';
			print "$file\t$b->{name}\n" unless $seen{ $b->{name} }++;
		}
	}
	exit 0;
}

# --check
my @problems;
for my $file (@ARGV)
{
	my @b = blocks($file);
	my %examples = map { $_->{name} => 1 } grep { ($_->{mark} // '') eq 'example' } @b;
	for my $b (@b)
	{
		if (!defined $b->{mark})
		{
			push @problems, "$file:$b->{line}: a code block without <!-- example: NAME --> or <!-- output -->";
		}
		elsif ($b->{mark} eq 'error of' && !$examples{ $b->{name} })
		{
			push @problems, "$file:$b->{line}: error of: $b->{name} names no example of this file";
		}
	}
}
print "$_\n" for @problems;
exit(@problems ? 1 : 0);
