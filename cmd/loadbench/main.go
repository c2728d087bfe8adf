// Command loadbench is make bench's load benchmark of the real server
// (issue 10). For each database it is given it prepares a return of more
// than 100 lines, starts `tracker serve` on a loopback port, signs in as
// the demo users the way a browser does, and measures the signed-in
// ceiling (/healthz with the session cookie) and then each page of the
// monthly cycle at 16 and 64 connections, as a share of that ceiling,
// with latency, errors, bytes, queries per request (pg_stat_statements)
// and the server's memory; then twelve concurrent exports while a page is
// timed; then SIGTERM. Every loop is bounded in requests and in time and
// talks only to 127.0.0.1. The tables are markdown, for docs/benchmarks.md.
//
//	loadbench -tracker bin/tracker -db x1=URL -db x10=URL -out bin/loadbench.txt
package main

import (
	"context"
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
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/org"
	"ccgtracker/internal/tracker"
)

// Bounds on every request loop, whatever the server does.
const (
	requestTimeout = 10 * time.Second // one page request
	exportTimeout  = 90 * time.Second // one export
	grace          = requestTimeout   // after the measuring time, for requests in flight
	maxRequests    = 200_000          // per measurement
	reviewLines    = 120              // lines of the return whose review page is measured
	demoPassword   = "demo-password"
)

type dbFlag []string

func (d *dbFlag) String() string     { return strings.Join(*d, ",") }
func (d *dbFlag) Set(v string) error { *d = append(*d, v); return nil }

func main() {
	var dbs dbFlag
	trackerBin := flag.String("tracker", "bin/tracker", "the tracker binary to serve")
	flag.Var(&dbs, "db", "LABEL=DATABASE_URL of a seeded database (repeat, in order; the first is the baseline for the ×N comparison)")
	duration := flag.Duration("duration", 3*time.Second, "how long each measurement issues requests")
	connsFlag := flag.String("conns", "16,64", "concurrent connections, comma separated")
	out := flag.String("out", "bin/loadbench.txt", "where the tables are written as well as stdout")
	logDir := flag.String("logdir", os.TempDir(), "folder for the servers' logs")
	only := flag.String("only", "", "measure only the pages whose path contains this (the ceiling always)")
	withExports := flag.Bool("exports", true, "run the twelve concurrent exports")
	exportCount := flag.Int("export-count", 12, "how many concurrent exports (CSV and XLSX in turn)")
	top := flag.Int("statements", 0, "print this many of each page's statements, by total time (to find what is slow)")
	flag.Parse()
	if len(dbs) == 0 {
		fmt.Fprintln(os.Stderr, "loadbench: give at least one -db LABEL=URL")
		os.Exit(2)
	}
	var conns []int
	for _, c := range strings.Split(*connsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "loadbench: bad -conns %q\n", *connsFlag)
			os.Exit(2)
		}
		conns = append(conns, n)
	}
	b := &bench{tracker: *trackerBin, duration: *duration, conns: conns, logDir: *logDir, top: *top, only: *only, withExports: *withExports, exportCount: *exportCount}
	var runs []scaleRun
	for _, d := range dbs {
		label, dbURL, ok := strings.Cut(d, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "loadbench: -db %q is not LABEL=URL\n", d)
			os.Exit(2)
		}
		run, err := b.scale(context.Background(), label, dbURL)
		if err != nil {
			fmt.Fprintf(os.Stderr, "loadbench: %s: %v\n", label, err)
			os.Exit(1)
		}
		runs = append(runs, run)
	}
	report := render(runs, conns)
	fmt.Print(report)
	if err := os.WriteFile(*out, []byte(report), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "loadbench: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("Load figures written to %s\n", *out)
}

type bench struct {
	tracker     string
	duration    time.Duration
	conns       []int
	logDir      string
	top         int    // statements to print per page, by total time
	only        string // measure only the pages whose path contains this
	withExports bool   // run the concurrent exports
	exportCount int    // how many
}

// page is one thing measured: a path fetched with one role's session.
type page struct {
	name, path, role string
}

// result is one measurement.
type result struct {
	page        page
	conns       int
	requests    int // completed, with any status
	errors      int // non-2xx, transport errors and requests cut off at the bound
	elapsed     time.Duration
	p50, p99    time.Duration
	bytes       int64 // of the 2xx bodies
	queries     int64 // statements the database ran meanwhile
	peakRSSKB   int64 // the server's largest VmRSS sampled meanwhile
	firstStatus int
	statements  []string // with -statements, the costliest
}

func (r result) reqPerSec() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests-r.errors) / r.elapsed.Seconds()
}

func (r result) bytesPerResponse() float64 {
	if ok := r.requests - r.errors; ok > 0 {
		return float64(r.bytes) / float64(ok)
	}
	return 0
}

func (r result) queriesPerRequest() float64 {
	if r.requests > 0 {
		return float64(r.queries) / float64(r.requests)
	}
	return 0
}

// exportRun is the twelve concurrent exports with a page timed meanwhile.
type exportRun struct {
	month                     string
	started, completed        int
	slowest                   time.Duration
	failures                  []string
	pagePath                  string
	pageRequests, pageErrors  int
	pageP50, pageP99, pageMax time.Duration
	alive                     bool // /healthz answered afterwards
}

// scaleRun is everything measured on one database.
type scaleRun struct {
	label       string
	ccg         string
	services    int
	reviewLines int
	results     []result
	ceilings    map[int]result
	exports     exportRun
	stop        string
	vmHWMKB     int64
}

// scale measures one database from start to SIGTERM.
func (b *bench) scale(ctx context.Context, label, dbURL string) (scaleRun, error) {
	run := scaleRun{label: label, ceilings: map[int]result{}}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return run, err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		return run, fmt.Errorf("pg_stat_statements (start the cluster with PG_STAT_STATEMENTS=on): %w", err)
	}
	now := time.Now()
	thisMonth := tracker.PeriodOf(dates.Today(now))
	lastMonth := thisMonth.Prev()
	if err := pool.QueryRow(ctx, `
		SELECT ccg_code, count(*) FROM service_instances GROUP BY ccg_code ORDER BY count(*) DESC, ccg_code LIMIT 1`).
		Scan(&run.ccg, &run.services); err != nil {
		return run, fmt.Errorf("find the biggest CCG: %w", err)
	}
	// The return reviewed: the biggest CCG's return for last month (the
	// month reviewers review now), so its return for this month stays the
	// editable page buyers see.
	if run.reviewLines, err = prepareReview(ctx, pool, now, run.ccg, lastMonth); err != nil {
		return run, fmt.Errorf("prepare the review: %w", err)
	}
	fmt.Printf("== %s: biggest CCG %s (%d services); review of %s %s with %d lines\n", label, run.ccg, run.services, run.ccg, lastMonth, run.reviewLines)

	srv, err := b.start(ctx, label, dbURL)
	if err != nil {
		return run, err
	}
	defer srv.kill()

	cookies := map[string]string{}
	for role, email := range map[string]string{
		"admin": "admin@example.nhs.uk", "reviewer": "reviewer@example.nhs.uk",
		"finance": "finance@example.nhs.uk", "buyer": "buyer.16c@example.nhs.uk",
	} {
		c, err := signIn(ctx, srv.base, email)
		if err != nil {
			return run, fmt.Errorf("sign in as %s: %w", email, err)
		}
		cookies[role] = c
	}

	recMonth := lastMonth.String()
	pages := []page{
		{"return page (" + run.ccg + ", " + thisMonth.String() + ")", "/ccgs/" + run.ccg + "/returns/" + thisMonth.String(), "reviewer"},
		{"returns list (" + thisMonth.String() + ")", "/returns?period=" + thisMonth.String(), "reviewer"},
		{"/ccgs", "/ccgs", "reviewer"},
		{"service ledger (" + run.ccg + ")", "/ccgs/" + run.ccg + "/services", "reviewer"},
		{"/performance", "/performance", "reviewer"},
		{fmt.Sprintf("review page (%d lines)", run.reviewLines), "/ccgs/" + run.ccg + "/returns/" + lastMonth.String() + "/review", "reviewer"},
		{"/reconciliation/" + recMonth, "/reconciliation/" + recMonth, "finance"},
		{"/reconciliation", "/reconciliation", "finance"},
	}
	ceiling := page{"/healthz signed in (ceiling)", "/healthz", "reviewer"}
	for _, n := range b.conns {
		c := b.measure(ctx, srv, pool, ceiling, cookies[ceiling.role], n)
		run.ceilings[n] = c
		run.results = append(run.results, c)
		printResult(label, c, c)
		for _, p := range pages {
			if !strings.Contains(p.path, b.only) {
				continue
			}
			r := b.measure(ctx, srv, pool, p, cookies[p.role], n)
			run.results = append(run.results, r)
			printResult(label, r, c)
		}
	}
	if b.withExports {
		run.exports = b.exports(ctx, srv, cookies["finance"], cookies["reviewer"], recMonth)
		fmt.Printf("%s: exports %d/%d complete, slowest %s; %s meanwhile: %d requests, p99 %s, max %s, %d errors\n",
			label, run.exports.completed, run.exports.started, ms(run.exports.slowest), run.exports.pagePath,
			run.exports.pageRequests, ms(run.exports.pageP99), ms(run.exports.pageMax), run.exports.pageErrors)
	}
	run.vmHWMKB = srv.status("VmHWM")
	run.stop = srv.stop(20 * time.Second)
	fmt.Printf("%s: peak RSS (VmHWM) %d MB; %s\n", label, run.vmHWMKB/1024, run.stop)
	return run, nil
}

// prepareReview makes the CCG's return for p a submitted return of about
// reviewLines cessations, through the tracker's own AddLines and Submit,
// unless it has enough lines already. It returns the number of lines.
func prepareReview(ctx context.Context, pool *pgxpool.Pool, now time.Time, ccg string, p tracker.Period) (int, error) {
	scope := org.AllCCGs()
	ret, err := tracker.Get(ctx, pool, scope, ccg, p)
	if err != nil {
		return 0, err
	}
	if len(ret.Lines) >= 100 || !ret.Editable {
		return len(ret.Lines), nil
	}
	// Services live through the whole month and not ceasing: each can
	// cease in the middle of it.
	date := p.First().AddDate(0, 0, 14)
	rows, err := pool.Query(ctx, `
		SELECT id, practice_code FROM service_instances
		WHERE ccg_code = $1 AND state = 'active' AND cessation_date IS NULL AND actual_m1 < $2
		ORDER BY id LIMIT $3`, ccg, p.First(), reviewLines)
	if err != nil {
		return 0, err
	}
	var ins []tracker.LineInput
	for rows.Next() {
		var id int64
		var practice string
		if err := rows.Scan(&id, &practice); err != nil {
			return 0, err
		}
		ins = append(ins, tracker.LineInput{
			Kind: tracker.Cessation, Practice: practice, Instance: fmt.Sprintf("SI%d-%s", id, practice),
			Date: date, Note: "load benchmark",
		})
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	store := tracker.NewStore(pool, func() time.Time { return now })
	problems, err := store.AddLines(ctx, org.System(), ccg, p, ret.Version, ins)
	if err != nil {
		for i, f := range problems {
			return 0, fmt.Errorf("%w: line %d (%s): %v", err, i, ins[i].Instance, f)
		}
		return 0, err
	}
	if ret, err = tracker.Get(ctx, pool, scope, ccg, p); err != nil {
		return 0, err
	}
	if err := store.Submit(ctx, org.System(), ccg, p, ret.Version, false); err != nil {
		return 0, err
	}
	return len(ret.Lines), nil
}

// server is a running `tracker serve`.
type server struct {
	cmd    *exec.Cmd
	base   string
	exited chan struct{} // closed when the process has ended
	err    error         // how it ended, once exited is closed
}

func (b *bench) start(ctx context.Context, label, dbURL string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return nil, err
	}
	logFile, err := os.Create(fmt.Sprintf("%s/loadbench-%s.log", b.logDir, label))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(b.tracker, "serve")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + dbURL, "ADDR=" + addr, "BASE_URL=http://" + addr,
		"RUN_JOBS=false", "LOG_LEVEL=warn", "SHUTDOWN_TIMEOUT=10s",
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, base: "http://" + addr, exited: make(chan struct{})}
	go func() { s.err = cmd.Wait(); _ = logFile.Close(); close(s.exited) }()
	// Ready when /readyz answers 200, within 30 s.
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := http.Get(s.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("tracker serve ended (%v): see %s", s.err, logFile.Name())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.kill()
			return nil, fmt.Errorf("tracker serve not ready in 30 s: see %s", logFile.Name())
		}
	}
}

// status reads one field, in kB, of the server's /proc status.
func (s *server) status(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// stop sends SIGTERM and says how long the server took to end, killing it
// if it has not ended within limit.
func (s *server) stop(limit time.Duration) string {
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return "SIGTERM failed: " + err.Error()
	}
	select {
	case <-s.exited:
		return fmt.Sprintf("SIGTERM stopped the server in %s", ms(time.Since(start)))
	case <-time.After(limit):
		s.kill()
		return fmt.Sprintf("SIGTERM did NOT stop the server within %s: killed", limit)
	}
}

func (s *server) kill() {
	select {
	case <-s.exited:
	default:
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// signIn signs in as a browser does: the form, then a same-origin POST;
// it returns the session cookie as a Cookie header.
func signIn(ctx context.Context, base, email string) (string, error) {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: requestTimeout}
	resp, err := client.Get(base + "/login")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	form := url.Values{"email": {email}, "password": {demoPassword}}
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
	// Signed in, the redirect lands on the dashboard, not the form.
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

func newClient(conns int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			MaxConnsPerHost: conns, MaxIdleConnsPerHost: conns, MaxIdleConns: conns,
			DisableCompression: true, ResponseHeaderTimeout: requestTimeout,
		},
		// A redirect (to /login, say) is an answer to count, not follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// get fetches one page and reads it whole: its status, size and time.
func get(ctx context.Context, client *http.Client, base, path, cookie string, timeout time.Duration) (status int, n int64, d time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	req.Header.Set("Cookie", cookie)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, time.Since(start), err
	}
	n, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, n, time.Since(start), err
}

// measure runs one page at n connections for the bench's duration.
func (b *bench) measure(ctx context.Context, srv *server, pool *pgxpool.Pool, p page, cookie string, n int) result {
	res := result{page: p, conns: n}
	client := newClient(n)
	defer client.CloseIdleConnections()
	// One request first: it warms the connection and the caches, and its
	// status says whether the page answers at all.
	res.firstStatus, _, _, _ = get(ctx, client, srv.base, p.path, cookie, requestTimeout)

	if _, err := pool.Exec(ctx, `SELECT pg_stat_statements_reset()`); err != nil {
		fmt.Fprintf(os.Stderr, "reset pg_stat_statements: %v\n", err)
	}
	rssDone := make(chan struct{})
	rssPeak := make(chan int64, 1)
	go func() {
		var peak int64
		t := time.NewTicker(25 * time.Millisecond)
		defer t.Stop()
		for {
			if v := srv.status("VmRSS"); v > peak {
				peak = v
			}
			select {
			case <-rssDone:
				rssPeak <- peak
				return
			case <-t.C:
			}
		}
	}()

	start := time.Now()
	stopIssuing := start.Add(b.duration)
	hard, cancel := context.WithDeadline(ctx, stopIssuing.Add(grace))
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		issued    int
	)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if issued >= maxRequests || time.Now().After(stopIssuing) {
					mu.Unlock()
					return
				}
				issued++
				mu.Unlock()
				status, bytes, d, err := get(hard, client, srv.base, p.path, cookie, requestTimeout)
				mu.Lock()
				res.requests++
				if err != nil || status < 200 || status > 299 {
					res.errors++
				} else {
					res.bytes += bytes
					latencies = append(latencies, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	close(rssDone)
	res.peakRSSKB = <-rssPeak
	if err := pool.QueryRow(ctx, `
		SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND query NOT ILIKE '%pg_stat_statements%'`).Scan(&res.queries); err != nil {
		fmt.Fprintf(os.Stderr, "read pg_stat_statements: %v\n", err)
	}
	res.p50, res.p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
	if b.top > 0 {
		res.statements = topStatements(ctx, pool, b.top, res.requests)
	}
	return res
}

// topStatements are the statements that took the most time, per request
// of the page just measured.
func topStatements(ctx context.Context, pool *pgxpool.Pool, n, requests int) []string {
	rows, err := pool.Query(ctx, `
		SELECT calls, total_exec_time, regexp_replace(query, '\s+', ' ', 'g') FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND query NOT ILIKE '%pg_stat_statements%'
		ORDER BY total_exec_time DESC LIMIT $1`, n)
	if err != nil {
		return []string{"read pg_stat_statements: " + err.Error()}
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var calls int64
		var total float64
		var q string
		if err := rows.Scan(&calls, &total, &q); err != nil {
			return append(out, err.Error())
		}
		out = append(out, fmt.Sprintf("    %6.2f ms/request, %6.2f ms/call, %.1f calls/request: %.160s",
			total/float64(max(requests, 1)), total/float64(max(calls, 1)), float64(calls)/float64(max(requests, 1)), q))
	}
	return out
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

// exports starts twelve exports of the month at once, CSV and XLSX in
// turn, as finance, and times a signed-in page one request after another
// until they have all ended.
func (b *bench) exports(ctx context.Context, srv *server, financeCookie, pageCookie, month string) exportRun {
	run := exportRun{month: month, started: b.exportCount, pagePath: "/ccgs"}
	client := newClient(run.started + 1)
	defer client.CloseIdleConnections()
	// Transport's ResponseHeaderTimeout is for pages; an export may take
	// longer to start, bounded by its own timeout below.
	client.Transport.(*http.Transport).ResponseHeaderTimeout = exportTimeout
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := make(chan struct{})
	for i := range run.started {
		ext := ".csv"
		if i%2 == 1 {
			ext = ".xlsx"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, n, d, err := get(ctx, client, srv.base, "/reconciliation/"+month+ext, financeCookie, exportTimeout)
			mu.Lock()
			defer mu.Unlock()
			if err != nil || status != http.StatusOK || n == 0 {
				why := fmt.Sprintf("status %d", status)
				switch {
				case errors.Is(err, context.DeadlineExceeded) || (err != nil && strings.Contains(err.Error(), "timeout")):
					why = "timed out"
				case err != nil:
					why = err.Error()
				}
				run.failures = append(run.failures, fmt.Sprintf("%s %s after %s (%d bytes)", ext, why, ms(d.Round(time.Second)), n))
				return
			}
			run.completed++
			run.slowest = max(run.slowest, d)
		}()
	}
	go func() { wg.Wait(); close(done) }()
	pageClient := newClient(1)
	defer pageClient.CloseIdleConnections()
	var lat []time.Duration
timing:
	for range maxRequests {
		select {
		case <-done:
			break timing
		default:
		}
		status, _, d, err := get(ctx, pageClient, srv.base, run.pagePath, pageCookie, requestTimeout)
		run.pageRequests++
		if err != nil || status != http.StatusOK {
			run.pageErrors++
		}
		lat = append(lat, d) // an error's time counts: it is what the person waited
	}
	<-done
	run.pageP50, run.pageP99 = percentile(lat, 0.50), percentile(lat, 0.99)
	for _, d := range lat {
		run.pageMax = max(run.pageMax, d)
	}
	status, _, _, err := get(ctx, pageClient, srv.base, "/healthz", "", requestTimeout)
	run.alive = err == nil && status == http.StatusOK
	return run
}

func ms(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
}

// latency is a percentile of the answered requests, or a dash when none
// was answered within the bound.
func latency(r result, d time.Duration) string {
	if r.requests == r.errors {
		return "—"
	}
	return ms(d)
}

func share(r, ceiling result) float64 {
	if c := ceiling.reqPerSec(); c > 0 {
		return 100 * r.reqPerSec() / c
	}
	return 0
}

func printResult(label string, r, ceiling result) {
	fmt.Printf("%s %-40s %3d conns: %8.1f req/s (%5.1f%%) p50 %-9s p99 %-9s errors %d/%d, %s, %.1f queries/req, RSS %d MB\n",
		label, r.page.name, r.conns, r.reqPerSec(), share(r, ceiling), ms(r.p50), ms(r.p99), r.errors, r.requests,
		kb(r.bytesPerResponse()), r.queriesPerRequest(), r.peakRSSKB/1024)
	for _, st := range r.statements {
		fmt.Println(st)
	}
}

func kb(b float64) string {
	if b >= 1<<20 {
		return fmt.Sprintf("%.1f MB", b/(1<<20))
	}
	return fmt.Sprintf("%.1f KB", b/1024)
}

// aims says which of issue 10's aims a page at 16 connections misses.
func aims(r, ceiling result) string {
	if r.page.path == "/healthz" {
		return ""
	}
	least := 25.0
	if strings.HasPrefix(r.page.path, "/reconciliation") {
		least = 10
	}
	var miss []string
	if s := share(r, ceiling); s < least {
		miss = append(miss, fmt.Sprintf("share < %.0f%%", least))
	}
	if r.requests == r.errors || r.p99 >= 100*time.Millisecond {
		miss = append(miss, "p99 ≥ 100 ms")
	}
	if r.queriesPerRequest() > 20 {
		miss = append(miss, "> 20 queries")
	}
	if r.errors > 0 {
		miss = append(miss, "errors")
	}
	if len(miss) == 0 {
		return "met"
	}
	return "not met: " + strings.Join(miss, ", ")
}

// render is the report: machine and date, then markdown tables.
func render(runs []scaleRun, conns []int) string {
	var b strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&b, "# make bench load benchmark, %s, on %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), host)
	fmt.Fprintf(&b, "# %s\n\n", machine())
	for _, run := range runs {
		fmt.Fprintf(&b, "## %s: biggest CCG %s (%d services), review page of %d lines\n\n", run.label, run.ccg, run.services, run.reviewLines)
		b.WriteString("| scale | page | conns | req/s | share of ceiling | p50 | p99 | errors | size | queries/req | peak RSS | aims (16 conns) |\n")
		b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, r := range run.results {
			c := run.ceilings[r.conns]
			verdict := ""
			if r.conns == 16 {
				verdict = aims(r, c)
			}
			errs := fmt.Sprintf("%d / %d", r.errors, r.requests)
			if r.firstStatus != http.StatusOK {
				errs += fmt.Sprintf(" (first answer %d)", r.firstStatus)
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %.1f | %.1f%% | %s | %s | %s | %s | %.1f | %d MB | %s |\n",
				run.label, r.page.name, r.conns, r.reqPerSec(), share(r, c), latency(r, r.p50), latency(r, r.p99), errs,
				kb(r.bytesPerResponse()), r.queriesPerRequest(), r.peakRSSKB/1024, verdict)
		}
		e := run.exports
		if e.started == 0 {
			b.WriteString("\nThe concurrent exports were not run.")
		} else {
			writeExports(&b, e)
		}
		fmt.Fprintf(&b, "\n\nServer peak RSS (VmHWM) %d MB. %s.\n\n", run.vmHWMKB/1024, run.stop)
	}
	if len(runs) > 1 {
		compare(&b, runs)
	}
	return b.String()
}

func writeExports(b *strings.Builder, e exportRun) {
	fmt.Fprintf(b, "\n%d concurrent exports of %s (CSV and XLSX in turn, as finance): **%d of %d complete**", e.started, e.month, e.completed, e.started)
	if e.completed > 0 {
		fmt.Fprintf(b, ", the slowest in %s", ms(e.slowest))
	}
	b.WriteString(".")
	if len(e.failures) > 0 {
		// The same failure twelve times is one line with its count.
		counts := map[string]int{}
		var order []string
		for _, f := range e.failures {
			if counts[f] == 0 {
				order = append(order, f)
			}
			counts[f]++
		}
		var parts []string
		for _, f := range order {
			parts = append(parts, fmt.Sprintf("%d× %s", counts[f], f))
		}
		fmt.Fprintf(b, " Failed: %s.", strings.Join(parts, "; "))
	}
	fmt.Fprintf(b, " Meanwhile `%s` (signed in, one request at a time): %d requests, p50 %s, p99 %s, max %s, %d errors (aim: all complete and the page under 1 s: %s).",
		e.pagePath, e.pageRequests, ms(e.pageP50), ms(e.pageP99), ms(e.pageMax), e.pageErrors,
		metWord(e.pageRequests > 0 && e.pageErrors == 0 && e.pageMax < time.Second && e.completed == e.started))
	if !e.alive {
		b.WriteString(" Afterwards /healthz did NOT answer.")
	}
}

// compare is each page's slowdown from the first scale to the others.
func compare(b *strings.Builder, runs []scaleRun) {
	base := runs[0]
	for _, other := range runs[1:] {
		fmt.Fprintf(b, "## %s against %s: how much slower each page is (req/s at %s ÷ req/s at %s; aim: at most 2×)\n\n", other.label, base.label, base.label, other.label)
		b.WriteString("| page | conns | " + base.label + " req/s | " + other.label + " req/s | slower by | p99 " + base.label + " | p99 " + other.label + " | aim |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---|\n")
		for i, r := range base.results {
			if i >= len(other.results) || r.page.path == "/healthz" {
				continue
			}
			o := other.results[i]
			slower := 0.0
			if o.reqPerSec() > 0 {
				slower = r.reqPerSec() / o.reqPerSec()
			}
			by := fmt.Sprintf("%.2f×", slower)
			if o.reqPerSec() == 0 {
				by = "no answers at " + other.label
			}
			fmt.Fprintf(b, "| %s | %d | %.1f | %.1f | %s | %s | %s | %s |\n", o.page.name, r.conns, r.reqPerSec(), o.reqPerSec(), by,
				latency(r, r.p99), latency(o, o.p99), metWord(o.reqPerSec() > 0 && r.reqPerSec() > 0 && slower <= 2))
		}
		b.WriteString("\n")
	}
}

func metWord(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}

func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
				break
			}
		}
	}
	cpus := 0
	if out, err := exec.Command("nproc").Output(); err == nil {
		cpus, _ = strconv.Atoi(strings.TrimSpace(string(out)))
	}
	return fmt.Sprintf("%d CPUs (nproc), %s; the load generator runs on the same machine", cpus, model)
}
