# test/lib.sh -- shared by "make test" and "make demo" (sourced, not run).
#
# Works on a bare Debian 12 machine: as root (CI) it installs what is
# missing with apt-get; as a normal user it does the same through sudo.
# PostgreSQL refuses to run as root, so the suites and the demo cluster run
# as an unprivileged user ("postgres", created by Debian's server package)
# in a copy of the tree that this user owns.

PG_MAJOR=15
: "${PG_CONFIG:=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config}"
export PG_CONFIG
RUN_USER=postgres

# Debian packages the build, the suites and the demo need.
# prometheus-postgres-exporter is for test/t/007_prometheus_exporter.pl,
# which runs its own exporter on a free loopback port; the service the
# package installs (port 9187, no DATA_SOURCE_NAME) is left alone: the
# test never scrapes it.  python3-psycopg is for test/client/docs_test.py,
# the Python examples of docs/integration.md (Debian's python3).
LEADFLOW_PACKAGES="make gcc postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR
postgresql-$PG_MAJOR-cron postgresql-contrib libipc-run-perl clang libclang-rt-14-dev
procps nodejs npm prometheus-postgres-exporter python3-psycopg"

is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a command as root: directly in CI, through sudo for a normal user.
as_root() {
	if is_root; then "$@"; else sudo "$@"; fi
}

ensure_packages() {
	local missing="" p
	for p in $LEADFLOW_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	# node and npm may come from elsewhere than Debian's packages
	if command -v node >/dev/null && command -v npm >/dev/null; then
		missing=$(echo "$missing" | tr ' ' '\n' | grep -vx -e nodejs -e npm | tr '\n' ' ')
	fi
	missing=$(echo $missing)
	[ -z "$missing" ] && return 0
	echo "== installing: $missing"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
}

build_and_install() {
	echo "== building leadflow"
	make -s PG_CONFIG="$PG_CONFIG" || return 1
	echo "== installing leadflow into $($PG_CONFIG --pkglibdir)"
	as_root make -s PG_CONFIG="$PG_CONFIG" install || return 1
}

# Copy the tree into a fresh directory owned by RUN_USER and print its path.
# As a normal user the tree is used in place.
runnable_tree() {
	if ! is_root; then
		pwd
		return 0
	fi
	local dir
	dir=$(mktemp -d /tmp/leadflow-run.XXXXXX)
	tar --exclude=./.git --exclude=./test/client/node_modules -cf - . | tar -C "$dir" -xf -
	chown -R "$RUN_USER" "$dir"
	chmod 755 "$dir"
	echo "$dir"
}

# Run a command as RUN_USER when root, else as ourselves.
as_run_user() {
	if is_root; then
		runuser -u "$RUN_USER" -- env PATH="$PATH" PG_CONFIG="$PG_CONFIG" "$@"
	else
		"$@"
	fi
}

# start_cluster DIR PORT [postgresql.conf lines...]
# A throwaway cluster in DIR, owned by RUN_USER, listening only on a socket
# in DIR/sock; any cluster already there is stopped and replaced.
start_cluster() {
	local dir=$1 port=$2 bindir
	shift 2
	bindir=$($PG_CONFIG --bindir)
	stop_cluster "$dir"
	mkdir -p "$dir/sock"
	is_root && chown -R "$RUN_USER" "$dir"
	chmod 755 "$dir"
	as_run_user "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust \
		--encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log"; return 1; }
	{
		echo "listen_addresses = ''"
		echo "port = $port"
		echo "unix_socket_directories = '$dir/sock'"
		echo "timezone = 'UTC'"
		printf '%s\n' "$@"
	} >>"$dir/data/postgresql.conf"
	as_run_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null ||
		{ cat "$dir/server.log"; return 1; }
}

# claim_cluster_dir DIR: make sure DIR is free or holds a cluster that this
# checkout started (its path is in DIR/owner); refuse another's.  Set
# LEADFLOW_REPLACE_CLUSTER=1 to take it over anyway.
claim_cluster_dir() {
	local dir=$1 me owner
	me=$(pwd -P)
	[ -e "$dir" ] || return 0
	owner=$(cat "$dir/owner" 2>/dev/null || echo "something else")
	[ "$owner" = "$me" ] && return 0
	[ "${LEADFLOW_REPLACE_CLUSTER:-0}" = 1 ] && return 0
	echo "$dir is in use by $owner, not by this checkout ($me)."
	echo "Stop it from there, choose another directory (LEADFLOW_DEMO_DIR=... LEADFLOW_DEMO_PORT=...),"
	echo "or set LEADFLOW_REPLACE_CLUSTER=1 to replace it."
	return 1
}

# stop_cluster DIR: stop the cluster in DIR (if running) and remove DIR.
stop_cluster() {
	local dir=$1
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_run_user "$($PG_CONFIG --bindir)/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1
	fi
	# A directory of our own we remove ourselves: the suites run as
	# RUN_USER, who may have no sudo (and sudo could wait for a password).
	if [ ! -e "$dir" ] || [ -O "$dir" ] || is_root; then
		rm -rf "$dir"
	else
		as_root rm -rf "$dir"
	fi
}
