#!/usr/bin/env bash
# A trial of the multi-host layout on one machine (docs/operations.rst): 2
# solum-git-api processes without engines and 3 solum-git-engine processes
# sharing PostgreSQL or MariaDB, splitting the stacks with redis (tooz).
#
#   tools/cluster.sh start     write the config, make the database, start all 5
#   tools/cluster.sh status    which processes run, which engines are in the group
#   tools/cluster.sh kill-engine N   kill -9 engine N (1-3): watch its stacks move
#   tools/cluster.sh start-engine N  start engine N again
#   tools/cluster.sh stop      stop the APIs and engines (git servers keep running)
#   tools/cluster.sh destroy   stop, stop the git servers, drop the database and dir
#
# Settings (environment):
#   SOLUM_GIT_CLUSTER_DIR    its directory (default /tmp/solum-git-cluster)
#   SOLUM_GIT_CLUSTER_DB     postgresql (default) or mysql, on 127.0.0.1
#   SOLUM_GIT_CLUSTER_DB_URL a server URL instead (no database name), e.g.
#                            postgresql+psycopg2://postgres@db.example.com:5432
#   SOLUM_GIT_REDIS_URL      default redis://127.0.0.1:6379 (a namespace is added)
#   SOLUM_GIT_TRANSPORT_URL  written as [DEFAULT] transport_url when set
#                            (RabbitMQ: rabbit://guest:guest@127.0.0.1:5672/)
#   SOLUM_GIT_API_PORTS      default "9781 9782"
#   SOLUM_GIT_CLUSTER_DBNAME the database (and redis namespace), solum_git_cluster
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${SOLUM_GIT_CLUSTER_DIR:-/tmp/solum-git-cluster}
KIND=${SOLUM_GIT_CLUSTER_DB:-postgresql}
REDIS=${SOLUM_GIT_REDIS_URL:-redis://127.0.0.1:6379}
read -r -a API_PORTS <<<"${SOLUM_GIT_API_PORTS:-9781 9782}"
ENGINES=3
CONFIG=$DIR/solum-git.conf
DBNAME=${SOLUM_GIT_CLUSTER_DBNAME:-solum_git_cluster}

case $KIND in
    postgresql) SERVER=${SOLUM_GIT_CLUSTER_DB_URL:-postgresql+psycopg2://postgres@127.0.0.1:5432}
                ADMIN_DB=postgres; SUFFIX= ;;
    mysql) SERVER=${SOLUM_GIT_CLUSTER_DB_URL:-mysql+pymysql://root@127.0.0.1:3306}
           ADMIN_DB=mysql; SUFFIX='?charset=utf8mb4' ;;
    *) echo "SOLUM_GIT_CLUSTER_DB must be postgresql or mysql, not '$KIND'" >&2; exit 2 ;;
esac

usage() {
    sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

venv() {
    # shellcheck source=tools/setup-env.sh
    source "$TOP/tools/setup-env.sh"
    install_system_packages
    # the database drivers come with the test requirements
    make_venv -r "$TOP/test-requirements.txt"
}

db_admin() {  # db_admin create|drop
    "$VENV/bin/python" - "$1" "$SERVER/$ADMIN_DB" "$DBNAME" <<'PY'
import sys
import sqlalchemy as sa
what, url, name = sys.argv[1:]
engine = sa.create_engine(url, isolation_level='AUTOCOMMIT')
with engine.connect() as conn:
    if engine.dialect.name == 'postgresql':
        exists = conn.execute(sa.text('SELECT 1 FROM pg_database WHERE datname = :n'),
                              {'n': name}).first()
        if what == 'drop' and exists:
            conn.execute(sa.text('SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                                 'WHERE datname = :n'), {'n': name})
    else:
        exists = conn.execute(sa.text('SHOW DATABASES LIKE :n'), {'n': name}).first()
    if what == 'create' and not exists:
        conn.execute(sa.text('CREATE DATABASE %s' % name))
    elif what == 'drop' and exists:
        conn.execute(sa.text('DROP DATABASE %s' % name))
engine.dispose()
PY
}

remove_stack_users() {  # as root each git server had a unix user of its own
    "$VENV/bin/python" - "$SERVER/$DBNAME$SUFFIX" <<'PY'
import sys
import sqlalchemy as sa
from solum_git.provisioners import stackusers
engine = sa.create_engine(sys.argv[1])
with engine.connect() as conn:
    rows = conn.execute(sa.text('SELECT uuid, ssh_user FROM stacks')).all()
engine.dispose()
for stack_uuid, user in rows:
    if stackusers.is_stack_user(user, stack_uuid):
        stackusers.remove(stack_uuid)
PY
}

write_config() {
    local extra=
    # without casts the engines find changes by their poll only: 1 s, not
    # the default 10 s, for a trial
    local poll='poll_interval = 1.0'
    if [ -n "${SOLUM_GIT_TRANSPORT_URL:-}" ]; then
        extra="transport_url = $SOLUM_GIT_TRANSPORT_URL"
        poll=
    fi
    local sep='?'
    case $REDIS in *\?*) sep='&' ;; esac
    cat >"$CONFIG" <<CONF
# Written by tools/cluster.sh: what every process of the cluster shares.
[DEFAULT]
state_path = $DIR/state
$extra

[api]
host = 127.0.0.1
port = ${API_PORTS[0]}
workers = 2
auth_strategy = noauth

[database]
connection = $SERVER/$DBNAME$SUFFIX

[engine]
# the engines are solum-git-engine processes, not threads of the APIs
in_process = false
$poll

[coordination]
backend_url = $REDIS${sep}namespace=$DBNAME
heartbeat = 1.0

[hook]
# a load balancer in front of the APIs would be here; in the trial, API 1
callback_url = http://127.0.0.1:${API_PORTS[0]}/v1/hooks/post-receive

[provisioner]
driver = local

[secrets]
# the same key for every engine: each opens the stacks' private keys
key_file = $DIR/secrets.keys
CONF
    [ -s "$DIR/secrets.keys" ] || (umask 077 && "$VENV/bin/solum-git-manage" \
        --config-file /dev/null secrets new-key >"$DIR/secrets.keys")
    local i=1
    for port in "${API_PORTS[@]}"; do
        printf '[api]\nport = %s\n' "$port" >"$DIR/api-$i.conf"
        i=$((i + 1))
    done
}

pidfile() { echo "$DIR/run/$1.pid"; }

running() {  # running NAME: its pid file names a live process
    local pid
    pid=$(cat "$(pidfile "$1")" 2>/dev/null) || return 1
    kill -0 "$pid" 2>/dev/null
}

launch() {  # launch NAME COMMAND...
    local name=$1
    shift
    if running "$name"; then
        echo "$name runs already (pid $(cat "$(pidfile "$name")"))"
        return
    fi
    setsid "$@" >>"$DIR/log/$name.log" 2>&1 </dev/null &
    echo $! >"$(pidfile "$name")"
    echo "$name started (pid $!, log $DIR/log/$name.log)"
}

start_engine() {
    launch "engine-$1" "$VENV/bin/solum-git-engine" --config-file "$CONFIG"
}

wait_http() {
    local port=$1 i
    for i in $(seq 1 100); do
        if (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    echo "no API on port $port after 20 s; see $DIR/log/" >&2
    return 1
}

start() {
    venv
    umask 077
    mkdir -p "$DIR/run" "$DIR/log" "$DIR/state"
    if [ "$(id -u)" -eq 0 ]; then chmod 711 "$DIR" "$DIR/state"; fi
    write_config
    db_admin create
    "$VENV/bin/solum-git-manage" --config-file "$CONFIG" db upgrade
    local i=1
    for port in "${API_PORTS[@]}"; do
        launch "api-$i" "$VENV/bin/solum-git-api" --config-file "$CONFIG" \
            --config-file "$DIR/api-$i.conf"
        i=$((i + 1))
    done
    for i in $(seq 1 "$ENGINES"); do
        start_engine "$i"
    done
    for port in "${API_PORTS[@]}"; do
        wait_http "$port"
    done
    echo "APIs: ${API_PORTS[*]/#/http://127.0.0.1:}"
    echo "try: curl -H 'X-Project-Id: p1' -H 'X-User-Id: u1' -H 'Content-Type: application/json'" \
         "-d '{\"name\": \"app\"}' http://127.0.0.1:${API_PORTS[0]}/v1/infrastructure/repos"
}

stop_one() {
    local name=$1 pid i
    pid=$(cat "$(pidfile "$name")" 2>/dev/null) || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for i in $(seq 1 75); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
        echo "$name stopped"
    fi
    rm -f "$(pidfile "$name")"
}

stop() {
    local i
    for i in $(seq 1 "$ENGINES"); do stop_one "engine-$i"; done
    for i in $(seq 1 "${#API_PORTS[@]}"); do stop_one "api-$i"; done
}

status() {
    local name
    for name in api-1 api-2 engine-1 engine-2 engine-3; do
        if running "$name"; then
            echo "$name: running (pid $(cat "$(pidfile "$name")"))"
        else
            echo "$name: not running"
        fi
    done
    # the group as the engines see it: their last word on it in their logs
    grep -h 'engines joined\|joined the engines' "$DIR"/log/engine-*.log 2>/dev/null \
        | sort | tail -n 3 || true
}

engine_number() {
    case ${1:-} in
        [1-3]) ;;
        *) echo "an engine number, 1 to $ENGINES" >&2; exit 2 ;;
    esac
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) status ;;
    kill-engine)
        engine_number "${2:-}"
        pid=$(cat "$(pidfile "engine-$2")")
        kill -KILL "$pid"
        echo "engine-$2 (pid $pid) killed; its stacks go to the others within seconds"
        ;;
    start-engine)
        engine_number "${2:-}"
        venv
        start_engine "$2"
        ;;
    destroy)
        stop
        venv
        if [ -f "$CONFIG" ]; then
            "$VENV/bin/solum-git-manage" --config-file "$CONFIG" stacks stop --all || true
            if [ "$(id -u)" -eq 0 ]; then remove_stack_users; fi
            db_admin drop
        fi
        rm -rf "$DIR"
        echo "removed $DIR and database $DBNAME"
        ;;
    *) usage ;;
esac
