// Command instancetest is make instances, issue 12's standing test 3: the
// deployment of several `tracker serve` instances on one database behind a
// real load balancer. It starts three instances on loopback ports, all with
// RUN_JOBS=true and the nightly job due a minute or so ahead, and Debian's
// HAProxy in front (roundrobin, GET /readyz health checks, forwardfor,
// redispatch, retries only where safe). The demo users sign in through the
// balancer as a browser does and request pages continuously while the
// buyers add a change to their return and take it off again; meanwhile the
// instance that River elected leader is stopped with SIGTERM before the
// night is due, and started again. It then checks that
//   - no request failed, other than ones in flight on the stopped instance
//     at the moment it was stopped;
//   - every session works on every instance, the restarted one included;
//   - the nightly job ran once for its date across the three;
//   - each buyer's return holds exactly the changes its answers said.
//
// Every loop is bounded in count and time and talks only to 127.0.0.1.
// It exits 1 when an assertion fails.
//
//	instancetest -tracker bin/tracker -db URL -haproxy haproxy -dir /tmp/x
package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/tracker"
)

// Bounds on everything, whatever the servers do.
const (
	requestTimeout = 10 * time.Second      // one request through the balancer
	startTimeout   = 30 * time.Second      // an instance or the balancer to be ready
	stopTimeout    = 20 * time.Second      // SIGTERM to exit (SHUTDOWN_TIMEOUT is 10 s)
	maxRequests    = 100_000               // in the whole load
	pause          = 20 * time.Millisecond // between one tab's requests
	marker         = "instancetest"        // the note of the changes the buyers add
	instances      = 3
	// Per instance: pages and jobs. Three instances need 33 connections,
	// far under the throwaway cluster's max_connections (200) and under
	// PostgreSQL's default of 100 too.
	dbConns   = 8
	jobsConns = 3
)

func main() {
	trackerBin := flag.String("tracker", "bin/tracker", "the tracker binary")
	dbURL := flag.String("db", "", "DATABASE_URL of a migrated database seeded with --demo")
	haproxy := flag.String("haproxy", "haproxy", "the haproxy binary")
	dir := flag.String("dir", os.TempDir(), "folder for haproxy.cfg and the logs")
	minPhase := flag.Duration("phase", 3*time.Second, "least time of load before the stop, while stopped, and after the restart")
	flag.Parse()
	if *dbURL == "" {
		fmt.Fprintln(os.Stderr, "instancetest: give -db URL")
		os.Exit(2)
	}
	t := &test{tracker: *trackerBin, dbURL: *dbURL, haproxyBin: *haproxy, dir: *dir, phase: *minPhase}
	// Interrupted, it stops what it started before it ends.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Fprintln(os.Stderr, "instancetest: interrupted: stopping the instances and HAProxy")
		t.cleanup()
		os.Exit(130)
	}()
	ok, err := t.run(context.Background())
	t.cleanup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "instancetest: %v (logs in %s)\n", err, *dir)
		os.Exit(1)
	}
	if !ok {
		fmt.Printf("FAILED (logs in %s)\n", *dir)
		os.Exit(1)
	}
	fmt.Println("PASSED")
}

type test struct {
	tracker, dbURL, haproxyBin, dir string
	phase                           time.Duration

	pool      *pgxpool.Pool
	lbPort    int
	statsPort int
	lb        *proc
	inst      [instances]*instance
	nightlyAt time.Time // when River is to run the night
	night     time.Time // its London business date

	mu       sync.Mutex
	nextID   int
	inflight map[int]*record
	records  []*record
}

type instance struct {
	name    string // its server name in haproxy.cfg
	port    int
	proc    *proc
	started time.Time      // exec'd
	ready   time.Time      // /readyz answered 200
	runs    [][2]time.Time // every start's (started, ready), restarts included
}

func (in *instance) base() string { return fmt.Sprintf("http://127.0.0.1:%d", in.port) }

// proc is a child process and how it ended.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

func startProc(logPath string, env []string, name string, args ...string) (*proc, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		_ = logFile.Close() // the harness's own log: the start failure is the news
		return nil, err
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	go func() { p.err = cmd.Wait(); _ = logFile.Close(); close(p.exited) }()
	return p, nil
}

func (p *proc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// stop sends SIGTERM and waits for the end, killing after limit.
func (p *proc) stop(limit time.Duration) (time.Duration, error) {
	start := time.Now()
	if !p.running() {
		return 0, fmt.Errorf("had already ended: %v", p.err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, err
	}
	select {
	case <-p.exited:
		return time.Since(start), nil
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return time.Since(start), fmt.Errorf("did not end within %s of SIGTERM: killed", limit)
	}
}

func (t *test) cleanup() {
	for _, in := range t.inst {
		if in != nil && in.proc != nil && in.proc.running() {
			_, _ = in.proc.stop(stopTimeout)
		}
	}
	if t.lb != nil && t.lb.running() {
		_, _ = t.lb.stop(5 * time.Second)
	}
	if t.pool != nil {
		t.pool.Close()
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

func (t *test) lbBase() string { return fmt.Sprintf("http://127.0.0.1:%d", t.lbPort) }

// user is one signed-in person and what they do.
type user struct {
	auth.NewUser
	cookie string
	pages  []string
	// Buyers: the service whose cessation they add and take off again,
	// and what the server answered.
	service        string
	adds, removals int
	writeFailures  int
}

func (t *test) run(ctx context.Context) (bool, error) {
	var err error
	if t.pool, err = pgxpool.New(ctx, t.dbURL); err != nil {
		return false, err
	}
	var maxConns int
	if err := t.pool.QueryRow(ctx, `SELECT current_setting('max_connections')::int`).Scan(&maxConns); err != nil {
		return false, err
	}
	need := instances * (dbConns + jobsConns)
	if need+5 > maxConns {
		return false, fmt.Errorf("%d instances need %d connections, more than max_connections %d allows", instances, need, maxConns)
	}
	var before int
	if err := t.pool.QueryRow(ctx, `SELECT count(*) FROM job_runs`).Scan(&before); err != nil {
		return false, err
	}
	if before != 0 {
		return false, fmt.Errorf("the database has %d job runs already: give a freshly seeded one", before)
	}

	// The night is due at the first whole minute at least 25 s away: time
	// to start everything and load it before the leader is stopped.
	t.nightlyAt = time.Now().Add(25 * time.Second).Truncate(time.Minute).Add(time.Minute)
	t.night = dates.Today(t.nightlyAt)
	if t.lbPort, err = freePort(); err != nil {
		return false, err
	}
	if t.statsPort, err = freePort(); err != nil {
		return false, err
	}
	for i := range t.inst {
		port, err := freePort()
		if err != nil {
			return false, err
		}
		t.inst[i] = &instance{name: fmt.Sprintf("app%d", i+1), port: port}
	}
	fmt.Printf("== %d instances of tracker serve on 127.0.0.1:%d, :%d, :%d, RUN_JOBS=true, NIGHTLY_AT=%s (London), %d+%d connections each (%d of max_connections %d)\n",
		instances, t.inst[0].port, t.inst[1].port, t.inst[2].port, t.nightlyAt.In(dates.London).Format("15:04"), dbConns, jobsConns, need, maxConns)
	// One after another, so each River client's id (its start time) says
	// which instance it is.
	for _, in := range t.inst {
		if err := t.startInstance(in); err != nil {
			return false, err
		}
	}
	if err := t.startBalancer(); err != nil {
		return false, err
	}
	if err := t.waitStatus(allUp); err != nil {
		return false, err
	}
	fmt.Printf("== HAProxy %s on %s in front: every instance UP by its /readyz check\n", haproxyVersion(t.haproxyBin), t.lbBase())

	users, err := t.users(ctx)
	if err != nil {
		return false, err
	}
	leader, err := t.leader(ctx)
	if err != nil {
		return false, err
	}
	fmt.Printf("== %d users signed in through the balancer; River's leader is %s\n", len(users), leader.name)

	// The load, until told to stop.
	stopLoad := make(chan struct{})
	var wg sync.WaitGroup
	loadDeadline := t.nightlyAt.Add(60 * time.Second)
	for _, u := range users {
		for range 2 {
			wg.Add(1)
			go func() { defer wg.Done(); t.readLoop(u, stopLoad, loadDeadline) }()
		}
		if u.service != "" {
			wg.Add(1)
			go func() { defer wg.Done(); t.writeLoop(u, stopLoad, loadDeadline) }()
		}
	}
	loadStart := time.Now()

	// Phase 1: all three, until the leader is stopped some seconds before
	// the night, so that another instance must take over and schedule it.
	waitUntil(loadStart.Add(t.phase))
	waitUntil(t.nightlyAt.Add(-8 * time.Second))
	before1 := t.count()
	stoppedAt := time.Now()
	t.mu.Lock()
	inflightAtStop := map[int]bool{}
	for id := range t.inflight {
		inflightAtStop[id] = true
	}
	t.mu.Unlock()
	took, stopErr := leader.proc.stop(stopTimeout)
	fmt.Printf("== %s stopped with SIGTERM after %d requests (%d in flight at that moment), ended in %s\n",
		leader.name, before1, len(inflightAtStop), took.Round(time.Millisecond))
	var problems []string
	if stopErr != nil {
		problems = append(problems, leader.name+" "+stopErr.Error())
	}
	if err := t.waitStatus(func(st map[string]string) bool { return strings.HasPrefix(st[leader.name], "DOWN") }); err != nil {
		problems = append(problems, err.Error())
	} else {
		fmt.Printf("   HAProxy marked %s DOWN %s after the SIGTERM\n", leader.name, time.Since(stoppedAt).Round(time.Millisecond))
	}
	time.Sleep(t.phase) // bounded: the load goes on meanwhile
	if err := t.startInstance(leader); err != nil {
		close(stopLoad)
		wg.Wait()
		return false, err
	}
	if err := t.waitStatus(allUp); err != nil {
		problems = append(problems, err.Error())
	}
	restartedUp := time.Now()
	fmt.Printf("== %s started again and UP %s after the SIGTERM\n", leader.name, restartedUp.Sub(stoppedAt).Round(time.Millisecond))

	// Phase 3: until the night has run and the restarted instance has
	// served for a while, within the deadline.
	nightDone := false
	for time.Now().Before(loadDeadline) {
		if !nightDone {
			nightDone = t.nightFinished(ctx)
		}
		if nightDone && time.Since(restartedUp) >= t.phase && t.servedBy(leader.name, restartedUp) > 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	close(stopLoad)
	wg.Wait()
	loadTime := time.Since(loadStart)

	// What the load saw.
	total, failures, unexplained, perServer, onStopped := t.tally(inflightAtStop, leader.name)
	fmt.Printf("== load through the balancer: %d requests in %s (%s), %d failed, %d of them not in flight on %s at the SIGTERM\n",
		total, loadTime.Round(100*time.Millisecond), perServer, len(failures), unexplained, leader.name)
	fmt.Printf("   of the %d requests in flight at the SIGTERM, %d were on %s and finished there\n", len(inflightAtStop), onStopped, leader.name)
	for _, f := range failures {
		fmt.Printf("   failed: %s\n", f)
	}
	if st, err := t.stats(); err == nil {
		b := st["BACKEND"]
		fmt.Printf("   HAProxy: %s retries, %s redispatches, %s connection errors, %s response errors, %s health-check changes of %s\n",
			b["wretr"], b["wredis"], b["econ"], b["eresp"], st[leader.name]["chkdown"], leader.name)
	}
	if unexplained > 0 {
		problems = append(problems, fmt.Sprintf("%d requests failed that were not in flight on the stopped instance", unexplained))
	}
	if n := t.servedBy(leader.name, restartedUp); n == 0 {
		problems = append(problems, leader.name+" served nothing after its restart")
	} else {
		fmt.Printf("   %s served %d requests after its restart\n", leader.name, n)
	}
	if total < 100 {
		problems = append(problems, fmt.Sprintf("only %d requests: the load did not run", total))
	}

	// Sessions: each user's cookie on each instance, directly.
	checked, bad := t.checkSessions(users)
	fmt.Printf("== sessions: %d users × %d instances checked directly, %d refused\n", len(users), instances, len(bad))
	for _, b := range bad {
		problems = append(problems, "session: "+b)
	}
	if checked != len(users)*instances {
		problems = append(problems, "not every session was checked")
	}

	// The buyers' returns hold what their answers said.
	for _, u := range users {
		if u.service == "" {
			continue
		}
		var n int
		if err := t.pool.QueryRow(ctx, `
			SELECT count(*) FROM return_lines l JOIN tracker_returns r ON r.id = l.return_id
			WHERE r.ccg_code = $1 AND l.note = $2`, u.CCGCode, marker).Scan(&n); err != nil {
			return false, err
		}
		fmt.Printf("== %s (%s): %d changes added and %d removed through the balancer, %d left on the return\n", u.Name, u.CCGCode, u.adds, u.removals, n)
		if u.adds < 2 {
			problems = append(problems, u.Name+" made fewer than two changes")
		}
		if u.writeFailures == 0 && n != u.adds-u.removals {
			problems = append(problems, fmt.Sprintf("%s's return holds %d changes, the answers said %d", u.Name, n, u.adds-u.removals))
		}
	}

	// The night: once, by the schedule, for its date.
	runs, jobsN, detail, err := t.nightRuns(ctx)
	if err != nil {
		return false, err
	}
	now, err := t.leader(ctx)
	if err != nil {
		problems = append(problems, err.Error())
	}
	fmt.Printf("== nightly job for %s (due %s): %d run(s) in job_runs, %d River job(s) [%s]; leader now %s\n",
		t.night.Format(time.DateOnly), t.nightlyAt.In(dates.London).Format("15:04"), runs, jobsN, detail, nameOf(now))
	if runs != 1 || jobsN != 1 {
		problems = append(problems, fmt.Sprintf("the nightly job ran %d times (%d River jobs), not once", runs, jobsN))
	} else if !t.nightFinished(ctx) || !strings.Contains(detail, "succeeded by the schedule") {
		problems = append(problems, "the night's run did not succeed by the schedule: "+detail)
	}
	if now == leader {
		// Not a failure: the restarted instance may win a later election.
		fmt.Printf("   (the restarted %s is leader again)\n", leader.name)
	}

	fmt.Printf("\nSummary: instances %d; requests %d; failures %d (%d requests in flight on the stopped instance at the SIGTERM finished there); sessions checked %d (refused %d); nightly runs %d\n",
		instances, total, len(failures), onStopped, checked, len(bad), runs)
	for _, p := range problems {
		fmt.Println("PROBLEM:", p)
	}
	return len(problems) == 0, nil
}

func nameOf(in *instance) string {
	if in == nil {
		return "none"
	}
	return in.name
}

func waitUntil(t time.Time) {
	if d := time.Until(t); d > 0 {
		time.Sleep(d)
	}
}

func (t *test) startInstance(in *instance) error {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"DATABASE_URL=" + t.dbURL,
		"ADDR=" + strings.TrimPrefix(in.base(), "http://"),
		"BASE_URL=" + t.lbBase(),
		"RUN_JOBS=true",
		"TRUST_PROXY_HEADERS=true",
		"DATABASE_MAX_CONNS=" + strconv.Itoa(dbConns),
		"JOBS_MAX_CONNS=" + strconv.Itoa(jobsConns),
		"NIGHTLY_AT=" + t.nightlyAt.In(dates.London).Format("15:04"),
		"SHUTDOWN_TIMEOUT=10s",
		"LOG_LEVEL=info",
	}
	in.started = time.Now()
	p, err := startProc(filepath.Join(t.dir, in.name+".log"), env, t.tracker, "serve")
	if err != nil {
		return err
	}
	in.proc = p
	client := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(startTimeout); time.Now().Before(deadline); {
		if resp, err := client.Get(in.base() + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				in.ready = time.Now()
				in.runs = append(in.runs, [2]time.Time{in.started, in.ready})
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s ended (%v): see %s.log", in.name, p.err, in.name)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready within %s", in.name, startTimeout)
}

// haproxyConfig is the balancer: roundrobin over the instances, each
// checked with GET /readyz every half second (two failures take it out,
// two successes bring it back), X-Forwarded-For for the sign-in throttle,
// and retries only where they are safe: a connection refused (the request
// was never sent) is retried on another instance for any method; a
// connection closed with no answer only for GET and HEAD, which change
// nothing. X-Served-By tells the test which instance answered.
func (t *test) haproxyConfig() string {
	var servers strings.Builder
	for _, in := range t.inst {
		fmt.Fprintf(&servers, "    server %s 127.0.0.1:%d check\n", in.name, in.port)
	}
	return fmt.Sprintf(`# Generated by cmd/instancetest (make instances).
global
    maxconn 512
    log stdout format raw local0 info

defaults
    mode http
    log global
    option httplog
    option forwardfor
    option redispatch 1
    retries 3
    retry-on conn-failure empty-response
    timeout connect 1s
    timeout client 15s
    timeout server 15s
    timeout http-request 5s
    timeout http-keep-alive 5s
    timeout check 1s
    default-server inter 500ms fall 2 rise 2

frontend stats
    bind 127.0.0.1:%d
    stats enable
    stats uri /stats
    stats refresh 1s

frontend www
    bind 127.0.0.1:%d
    default_backend tracker

backend tracker
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz
    http-check expect status 200
    http-request disable-l7-retry unless METH_GET || METH_HEAD
    http-after-response set-header X-Served-By %%[srv_name]
%s`, t.statsPort, t.lbPort, servers.String())
}

func (t *test) startBalancer() error {
	cfg := filepath.Join(t.dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(t.haproxyConfig()), 0o644); err != nil {
		return err
	}
	if out, err := exec.Command(t.haproxyBin, "-c", "-q", "-f", cfg).CombinedOutput(); err != nil {
		return fmt.Errorf("haproxy -c %s: %v: %s", cfg, err, out)
	}
	env := []string{"PATH=" + os.Getenv("PATH")}
	p, err := startProc(filepath.Join(t.dir, "haproxy.log"), env, t.haproxyBin, "-db", "-f", cfg)
	if err != nil {
		return err
	}
	t.lb = p
	return nil
}

func haproxyVersion(bin string) string {
	out, err := exec.Command(bin, "-v").Output()
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(out))
	if len(f) >= 3 {
		return f[2]
	}
	return "?"
}

func allUp(st map[string]string) bool {
	n := 0
	for name, s := range st {
		if strings.HasPrefix(name, "app") && s == "UP" {
			n++
		}
	}
	return n == instances
}

// waitStatus polls HAProxy's statistics until ok holds of its servers'
// states, within startTimeout.
func (t *test) waitStatus(ok func(map[string]string) bool) error {
	var last map[string]string
	for deadline := time.Now().Add(startTimeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if !t.lb.running() {
			return fmt.Errorf("haproxy ended (%v): see haproxy.log", t.lb.err)
		}
		st, err := t.stats()
		if err != nil {
			continue
		}
		last = map[string]string{}
		for name, row := range st {
			last[name] = row["status"]
		}
		if ok(last) {
			return nil
		}
	}
	return fmt.Errorf("the balancer's servers did not reach the state awaited within %s: %v", startTimeout, last)
}

// stats is HAProxy's statistics of the tracker backend: each server's row
// (and BACKEND's) by column name.
func (t *test) stats() (map[string]map[string]string, error) {
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/stats;csv", t.statsPort))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	r := csv.NewReader(resp.Body)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(rows) < 2 {
		return nil, errors.New("no statistics")
	}
	head := rows[0]
	head[0] = strings.TrimPrefix(head[0], "# ")
	st := map[string]map[string]string{}
	for _, row := range rows[1:] {
		if len(row) < 2 || row[0] != "tracker" {
			continue
		}
		m := map[string]string{}
		for i, name := range head {
			if i < len(row) {
				m[name] = row[i]
			}
		}
		st[row[1]] = m
	}
	return st, nil
}

// leader is the instance River elected: its client id ends with the UTC
// time the client was made, within that instance's start.
func (t *test) leader(ctx context.Context) (*instance, error) {
	var id string
	for deadline := time.Now().Add(startTimeout); ; time.Sleep(100 * time.Millisecond) {
		err := t.pool.QueryRow(ctx, `SELECT leader_id FROM river_leader WHERE expires_at > now()`).Scan(&id)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no River leader within %s: %v", startTimeout, err)
		}
	}
	in := t.instanceOf(id)
	if in == nil {
		return nil, fmt.Errorf("the River leader %q is none of the instances started", id)
	}
	return in, nil
}

// instanceOf is the instance whose River client has the id given: a
// client's id ends with the UTC time it was made (host_2006_01_02T15_04_05_000000),
// which falls within one instance's start.
func (t *test) instanceOf(clientID string) *instance {
	parts := strings.Split(clientID, "_")
	if len(parts) < 7 {
		return nil
	}
	stamp := strings.Join(parts[len(parts)-6:len(parts)-1], "_") + "." + parts[len(parts)-1]
	at, err := time.Parse("2006_01_02T15_04_05.000000", stamp)
	if err != nil {
		return nil
	}
	for _, in := range t.inst {
		for _, r := range in.runs {
			if !at.Before(r[0].Add(-time.Millisecond)) && !at.After(r[1]) {
				return in
			}
		}
	}
	return nil
}

// users signs the demo users in through the balancer and gives each the
// pages they read; the buyers also a service of their CCG to report.
func (t *test) users(ctx context.Context) ([]*user, error) {
	period := tracker.PeriodOf(dates.Today(time.Now())).String()
	var users []*user
	for _, d := range auth.DemoUsers {
		u := &user{NewUser: d}
		switch d.Role {
		case auth.Admin:
			u.pages = []string{"/", "/ccgs", "/admin/users", "/admin/jobs", "/catalogue"}
		case auth.Reviewer:
			u.pages = []string{"/", "/returns?period=" + period, "/ccgs", "/ccgs/16C/services", "/performance"}
		case auth.Finance:
			u.pages = []string{"/", "/reconciliation", "/orders", "/ccgs"}
		case auth.Buyer:
			u.pages = []string{"/", "/ccgs/" + d.CCGCode, returnPath(d.CCGCode, period), "/ccgs/" + d.CCGCode + "/services"}
			var id int64
			var practice string
			if err := t.pool.QueryRow(ctx, `
				SELECT id, practice_code FROM service_instances
				WHERE ccg_code = $1 AND state = 'active' AND cessation_date IS NULL ORDER BY id LIMIT 1`, d.CCGCode).Scan(&id, &practice); err != nil {
				return nil, fmt.Errorf("a service of %s: %w", d.CCGCode, err)
			}
			u.service = fmt.Sprintf("SI%d-%s", id, practice)
		}
		c, err := signIn(ctx, t.lbBase(), d.Email)
		if err != nil {
			return nil, fmt.Errorf("sign in as %s: %w", d.Email, err)
		}
		u.cookie = c
		// Every page answers before the load begins, so a failure later
		// is the deployment's, not a wrong path's.
		client := newClient()
		for _, p := range u.pages {
			r := t.do(client, u, http.MethodGet, p, nil)
			if r.failed() {
				return nil, fmt.Errorf("%s: %s", d.Email, r)
			}
		}
		users = append(users, u)
	}
	return users, nil
}

func returnPath(ccg, period string) string { return "/ccgs/" + ccg + "/returns/" + period }

// signIn signs in as a browser does: the form, then a same-origin POST.
func signIn(ctx context.Context, base, email string) (string, error) {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: requestTimeout}
	resp, err := client.Get(base + "/login")
	if err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	form := url.Values{"email": {email}, "password": {auth.DemoPassword}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err = client.Do(req)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		return "", fmt.Errorf("sign-in ended at %s with %d: %.200s", resp.Request.URL.Path, resp.StatusCode, body)
	}
	u, _ := url.Parse(base)
	var parts []string
	for _, c := range jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	if len(parts) == 0 {
		return "", errors.New("no session cookie")
	}
	return strings.Join(parts, "; "), nil
}

// newClient is one browser tab: keep-alive to the balancer, redirects
// answered rather than followed (a redirect to /login is a lost session).
func newClient() *http.Client {
	return &http.Client{
		Timeout:       requestTimeout,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 2, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// record is one request of the load and its answer.
type record struct {
	id           int
	user, method string
	path         string
	want         int
	start, end   time.Time
	status       int
	location     string
	server       string
	err          error
}

func (r *record) failed() bool { return r.err != nil || r.status != r.want }

func (r *record) String() string {
	what := fmt.Sprintf("%d", r.status)
	if r.err != nil {
		what = r.err.Error()
	} else if r.location != "" {
		what += " to " + r.location
	}
	return fmt.Sprintf("%s %s %s as %s: %s (want %d) from %q in %s", r.start.Format("15:04:05.000"), r.method, r.path, r.user, what,
		r.want, r.server, r.end.Sub(r.start).Round(time.Millisecond))
}

// do makes one request through the balancer and records it.
func (t *test) do(client *http.Client, u *user, method, path string, form url.Values) *record {
	r, _ := t.fetch(client, u, method, path, form)
	return r
}

// fetch is do that returns the body too (it is not kept in the record).
func (t *test) fetch(client *http.Client, u *user, method, path string, form url.Values) (*record, []byte) {
	t.mu.Lock()
	t.nextID++
	r := &record{id: t.nextID, user: u.Email, method: method, path: path, want: http.StatusOK}
	if t.inflight == nil {
		t.inflight = map[int]*record{}
	}
	t.inflight[r.id] = r
	t.mu.Unlock()

	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
		r.want = http.StatusSeeOther
	}
	req, _ := http.NewRequest(method, t.lbBase()+path, body)
	req.Header.Set("Cookie", u.cookie)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", t.lbBase())
	}
	var page []byte
	r.start = time.Now()
	resp, err := client.Do(req)
	if err == nil {
		r.status, r.location, r.server = resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("X-Served-By")
		page, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	r.err = err
	r.end = time.Now()
	t.mu.Lock()
	delete(t.inflight, r.id)
	t.records = append(t.records, r)
	t.mu.Unlock()
	if form == nil || r.failed() {
		return r, page
	}
	// A change answered 303 goes back to the return, as the form does.
	if !strings.HasSuffix(r.location, path[:strings.Index(path, "/returns/")+len("/returns/")+7]) {
		r.err = fmt.Errorf("redirected to %q, not the return", r.location)
	}
	return r, page
}

// more says whether the load may issue another request.
func (t *test) more(stop <-chan struct{}, deadline time.Time) bool {
	select {
	case <-stop:
		return false
	default:
	}
	t.mu.Lock()
	n := t.nextID
	t.mu.Unlock()
	return n < maxRequests && time.Now().Before(deadline)
}

func (t *test) readLoop(u *user, stop <-chan struct{}, deadline time.Time) {
	client := newClient()
	defer client.CloseIdleConnections()
	for i := 0; t.more(stop, deadline); i++ {
		t.do(client, u, http.MethodGet, u.pages[i%len(u.pages)], nil)
		time.Sleep(pause)
	}
}

// writeLoop is a buyer adding the cessation of their service to this
// month's return and taking it off again, reading the return between, as
// the pages' forms do (each with the return's version).
func (t *test) writeLoop(u *user, stop <-chan struct{}, deadline time.Time) {
	client := newClient()
	defer client.CloseIdleConnections()
	today := dates.Today(time.Now())
	page := returnPath(u.CCGCode, tracker.PeriodOf(today).String())
	for t.more(stop, deadline) {
		r, body := t.fetch(client, u, http.MethodGet, page, nil)
		if r.failed() {
			time.Sleep(pause)
			continue
		}
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
		if err != nil {
			continue
		}
		var del, delVersion string
		doc.Find("[data-testid=return-line]").Each(func(_ int, row *goquery.Selection) {
			if strings.Contains(row.Text(), marker) {
				del, _ = row.Find("form").Attr("action")
				delVersion, _ = row.Find("input[name=version]").Attr("value")
			}
		})
		if del != "" {
			if w := t.do(client, u, http.MethodPost, del, url.Values{"version": {delVersion}}); w.failed() {
				u.writeFailures++
			} else {
				u.removals++
			}
		} else {
			version, _ := doc.Find("input[name=version]").First().Attr("value")
			form := url.Values{"version": {version}, "kind": {"cessation"}, "instance": {u.service}, "note": {marker},
				"date-day": {strconv.Itoa(today.Day())}, "date-month": {strconv.Itoa(int(today.Month()))}, "date-year": {strconv.Itoa(today.Year())}}
			if w := t.do(client, u, http.MethodPost, page+"/lines", form); w.failed() {
				u.writeFailures++
			} else {
				u.adds++
			}
		}
		time.Sleep(pause)
	}
}

func (t *test) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.records)
}

// servedBy counts the requests an instance answered that began after since.
func (t *test) servedBy(name string, since time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, r := range t.records {
		if r.server == name && r.start.After(since) && !r.failed() {
			n++
		}
	}
	return n
}

// tally counts the requests and failures; a failure is explained only if
// it was in flight at the SIGTERM and the stopped instance answered it, or
// nothing did.
func (t *test) tally(inflightAtStop map[int]bool, stopped string) (total int, failures []string, unexplained int, perServer string, onStopped int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	by := map[string]int{}
	for _, r := range t.records {
		total++
		by[r.server]++
		if inflightAtStop[r.id] && r.server == stopped && !r.failed() {
			onStopped++
		}
		if r.failed() {
			failures = append(failures, r.String())
			if !inflightAtStop[r.id] || (r.server != "" && r.server != stopped) {
				unexplained++
			}
		}
	}
	var parts []string
	for _, in := range t.inst {
		parts = append(parts, fmt.Sprintf("%s %d", in.name, by[in.name]))
	}
	if by[""] > 0 {
		parts = append(parts, fmt.Sprintf("no instance %d", by[""]))
	}
	return total, failures, unexplained, strings.Join(parts, ", "), onStopped
}

// checkSessions asks each instance directly, with each user's cookie, for
// the dashboard: it must answer signed in, with the user's name.
func (t *test) checkSessions(users []*user) (checked int, bad []string) {
	client := newClient()
	defer client.CloseIdleConnections()
	for _, in := range t.inst {
		for _, u := range users {
			checked++
			req, _ := http.NewRequest(http.MethodGet, in.base()+"/", nil)
			req.Header.Set("Cookie", u.cookie)
			resp, err := client.Do(req)
			if err != nil {
				bad = append(bad, fmt.Sprintf("%s on %s: %v", u.Email, in.name, err))
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), u.Name) {
				bad = append(bad, fmt.Sprintf("%s on %s: %d %s", u.Email, in.name, resp.StatusCode, resp.Header.Get("Location")))
			}
		}
	}
	return checked, bad
}

// nightFinished says whether the night's run is recorded as finished and
// River has completed its job.
func (t *test) nightFinished(ctx context.Context) bool {
	var done bool
	err := t.pool.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM job_runs WHERE business_date = $1 AND finished_at IS NOT NULL)
		   AND EXISTS (SELECT 1 FROM river_job WHERE kind = 'nightly' AND args->>'date' = $2 AND state = 'completed')`,
		t.night, t.night.Format(time.DateOnly)).Scan(&done)
	return err == nil && done
}

// nightRuns counts the runs of the night recorded by the nightly package
// and River's jobs of that kind for the date, with their states.
func (t *test) nightRuns(ctx context.Context) (runs, jobs int, detail string, err error) {
	if err = t.pool.QueryRow(ctx, `SELECT count(*) FROM job_runs WHERE business_date = $1`, t.night).Scan(&runs); err != nil {
		return
	}
	rows, err := t.pool.Query(ctx, `
		SELECT state::text, attempt, coalesce(array_to_string(attempted_by, ','), '') FROM river_job
		WHERE kind = 'nightly' AND args->>'date' = $1 ORDER BY id`, t.night.Format(time.DateOnly))
	if err != nil {
		return
	}
	defer rows.Close()
	var parts []string
	for rows.Next() {
		var state, by string
		var attempt int
		if err = rows.Scan(&state, &attempt, &by); err != nil {
			return
		}
		jobs++
		var on []string
		for _, id := range strings.Split(by, ",") {
			if in := t.instanceOf(id); in != nil {
				on = append(on, in.name)
			} else if id != "" {
				on = append(on, id)
			}
		}
		parts = append(parts, fmt.Sprintf("%s after %d attempt(s) on %s", state, attempt, strings.Join(on, ",")))
	}
	var outcome string
	if e := t.pool.QueryRow(ctx, `SELECT string_agg(outcome || coalesce(' by user ' || triggered_by, ' by the schedule'), ', ') FROM job_runs WHERE business_date = $1`, t.night).Scan(&outcome); e == nil && outcome != "" {
		parts = append(parts, "job_runs: "+outcome)
	}
	return runs, jobs, strings.Join(parts, "; "), rows.Err()
}
