#!/usr/bin/perl
# typedefs.pl -- the type names src/ defines with typedef, one a line,
# sorted: the list pgindent needs to lay out declarations of these types
# ("make typedefs" writes it to typedefs.list; "make indent" reads it).
#
#   perl test/tools/typedefs.pl [SRC_DIR]
use strict;
use warnings;

my $src = shift(@ARGV) // 'src';
my %names;
for my $path (glob("$src/*.c"), glob("$src/*.h"))
{
	open(my $fh, '<', $path) or die "$path: $!";
	local $/;
	my $text = <$fh>;
	close $fh;
	$text =~ s{/\*.*?\*/}{ }gs;
	# typedef struct X { ... } Name;  -- the body may nest braces
	while ($text =~ /\btypedef\b((?:[^;{]|\{(?:[^{}]|\{[^{}]*\})*\})*);/g)
	{
		my $decl = $1;
		$decl =~ s/\{.*\}/ /s;	# a body's members are not the name
		if ($decl =~ /\(\s*\*\s*([A-Za-z_]\w*)\s*\)/)
		{
			$names{$1} = 1;		# a function pointer type
		}
		elsif ($decl =~ /([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*$/)
		{
			$names{$1} = 1;
		}
	}
}
print "$_\n" for sort keys %names;
