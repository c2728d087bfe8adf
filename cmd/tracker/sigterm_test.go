package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/jobs"
	"ccgtracker/internal/postgres/pgtest"
)

// instance is one `tracker serve` process, run in this one.
type instance struct {
	base string
	logs *syncBuffer
	stop context.CancelFunc // as SIGTERM does
	done chan struct{}      // closed when serve has returned, with err
	err  error
}

func startInstance(t *testing.T, env map[string]string) *instance {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	in := &instance{logs: &syncBuffer{}, stop: stop, done: make(chan struct{})}
	stdoutR, stdoutW := io.Pipe()
	go func() {
		in.err = run(ctx, []string{"serve"}, envOf(env), stdoutW, in.logs)
		_ = stdoutW.Close() // the pipe's reader sees EOF either way
		close(in.done)
	}()
	line, err := bufio.NewReader(stdoutR).ReadString('\n')
	if err != nil {
		stop()
		t.Fatalf("no listening line: %v (logs: %s)", err, in.logs.String())
	}
	go io.Copy(io.Discard, stdoutR) //nolint:errcheck
	in.base = "http://" + strings.TrimSpace(strings.TrimPrefix(line, "CCG Order Tracker listening on "))
	t.Cleanup(func() {
		stop()
		<-in.done
	})
	return in
}

// waitFor polls the database until cond holds, failing after a bound.
func waitFor(t *testing.T, pool *pgxpool.Pool, what, cond string, args ...any) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var ok bool
		if err := pool.QueryRow(context.Background(), `SELECT `+cond, args...).Scan(&ok); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30 s", what)
		}
	}
}

// waitForLog waits until the instance has logged msg.
func waitForLog(t *testing.T, in *instance, msg string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(in.logs.String(), msg); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the instance did not log %q within 30 s (logs: %.2000s)", msg, in.logs.String())
		}
	}
}

// browser is a signed-in client of an instance.
func browser(t *testing.T, base, email string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp := postForm(t, c, base+"/login", url.Values{"email": {email}, "password": {auth.DemoPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: status %d", email, resp.StatusCode)
	}
	return c
}

func postForm(t *testing.T, c *http.Client, to string, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, to, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

var versionField = regexp.MustCompile(`name="version" value="(\d+)"`)

// SIGTERM while pages load, a buyer's change waits on a lock and two
// nightly jobs are running (a third waiting for a free worker): the
// instance stops taking connections, the change and the running jobs
// finish within SHUTDOWN_TIMEOUT (River stops softly: nothing cancelled),
// every page that was answered was answered whole, and the job left
// waiting is worked by the instance started next.
func TestSIGTERMUnderLoadFinishesWhatIsInFlightAndTheNextInstanceTakesOver(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewWithURL(t)
	ctx := context.Background()
	if err := run(ctx, []string{"seed", "--demo"}, envOf(map[string]string{"DATABASE_URL": dbURL}), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	pool, _ := pgtest.Open(t, dbURL, func(c *pgxpool.Config) { c.MaxConns = 4 })

	const timeout = 10 * time.Second
	// The night is scheduled half a day away, so River's own schedule
	// never adds a job while the test runs.
	night := time.Now().In(dates.London).Add(12 * time.Hour).Format("15:04")
	env := map[string]string{"DATABASE_URL": dbURL, "ADDR": "127.0.0.1:0", "SHUTDOWN_TIMEOUT": timeout.String(),
		"RUN_JOBS": "true", "NIGHTLY_AT": night, "LOG_LEVEL": "debug"}
	a := startInstance(t, env)

	// The test holds the nightly job's lock, so the runs wait on it.
	lockConn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer lockConn.Release()
	if _, err := lockConn.Exec(ctx, `SELECT pg_advisory_lock(7700000001)`); err != nil {
		t.Fatal(err)
	}
	inserter, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	nights := []string{"2026-01-05", "2026-01-06", "2026-01-07"}
	for _, d := range nights[:2] {
		if _, err := inserter.Insert(ctx, jobs.NightlyArgs{Date: d}, nil); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, pool, "both workers running a night, waiting on the lock",
		`(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted) = 2`)
	// Both of the instance's workers are busy: this one waits its turn.
	if _, err := inserter.Insert(ctx, jobs.NightlyArgs{Date: nights[2]}, nil); err != nil {
		t.Fatal(err)
	}

	// A buyer's change waits on the return, which the test holds locked.
	buyer := browser(t, a.base, "buyer.16c@example.nhs.uk")
	period := time.Now().In(dates.London).Format("2006-01")
	returnPath := a.base + "/ccgs/16C/returns/" + period
	resp, err := buyer.Get(returnPath)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := versionField.FindSubmatch(page)
	if m == nil {
		t.Fatalf("the return page has no version (status %d)", resp.StatusCode)
	}
	var service string
	if err := pool.QueryRow(ctx, `SELECT 'SI' || id || '-' || practice_code FROM service_instances
		WHERE ccg_code = '16C' AND state = 'active' ORDER BY practice_code LIMIT 1`).Scan(&service); err != nil {
		t.Fatal(err)
	}
	rowLock, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rowLock.Rollback(ctx) //nolint:errcheck
	if _, err := rowLock.Exec(ctx, `SELECT 1 FROM tracker_returns WHERE ccg_code = '16C' AND period = $1 FOR UPDATE`, period+"-01"); err != nil {
		t.Fatal(err)
	}
	first := time.Now().In(dates.London)
	changed := make(chan int, 1)
	change := url.Values{"version": {string(m[1])}, "kind": {"cessation"}, "instance": {service},
		"date-day": {"1"}, "date-month": {strconv.Itoa(int(first.Month()))}, "date-year": {strconv.Itoa(first.Year())}}
	go func() {
		req, _ := http.NewRequest(http.MethodPost, returnPath+"/lines", strings.NewReader(change.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := buyer.Do(req)
		if err != nil {
			changed <- 0
			return
		}
		resp.Body.Close()
		changed <- resp.StatusCode
	}()
	waitFor(t, pool, "the change waiting on the return's lock",
		`EXISTS (SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FROM tracker_returns%FOR UPDATE%')`)

	// Pages load from three people at once until the instance has gone.
	var stopping sync.Mutex
	stopped := false
	var wg sync.WaitGroup
	var failures []string
	var answered int
	var mu sync.Mutex
	for who, page := range map[string]string{"reviewer@example.nhs.uk": "/ccgs/16C", "finance@example.nhs.uk": "/", "buyer.03q@example.nhs.uk": "/ccgs/03Q"} {
		c := browser(t, a.base, who)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 5000; n++ {
				resp, err := c.Get(a.base + page)
				stopping.Lock()
				after := stopped
				stopping.Unlock()
				mu.Lock()
				switch {
				case err != nil && after:
					mu.Unlock()
					return // the instance has stopped taking connections
				case err != nil:
					failures = append(failures, err.Error())
				default:
					body, rerr := io.ReadAll(resp.Body)
					resp.Body.Close()
					answered++
					if resp.StatusCode != http.StatusOK || rerr != nil || !strings.Contains(string(body), "</html>") {
						failures = append(failures, fmt.Sprintf("%s (%v)", resp.Status, rerr))
					}
				}
				mu.Unlock()
			}
		}()
	}
	// Under load: some pages answered before SIGTERM.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := answered
		mu.Unlock()
		if n >= 30 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d pages answered in 30 s", n)
		}
	}

	stopping.Lock()
	stopped = true
	stopping.Unlock()
	sigterm := time.Now()
	a.stop()
	// River has stopped fetching before the lock is let go, so the waiting
	// job can only be worked by the next instance.
	waitForLog(t, a, "producer: Entering shutdown loop")
	if err := rowLock.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case status := <-changed:
		if status != http.StatusSeeOther {
			t.Errorf("the change in flight at SIGTERM: status %d, want 303", status)
		}
	case <-time.After(timeout):
		t.Fatalf("the change in flight at SIGTERM had no answer within %s", timeout)
	}
	if _, err := lockConn.Exec(ctx, `SELECT pg_advisory_unlock(7700000001)`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.done:
		if a.err != nil {
			t.Fatalf("serve returned %v", a.err)
		}
	case <-time.After(timeout + 5*time.Second):
		t.Fatalf("serve did not stop within %s of SIGTERM (logs: %.3000s)", timeout, a.logs.String())
	}
	took := time.Since(sigterm)
	wg.Wait()
	if took > timeout {
		t.Errorf("stopped %s after SIGTERM, more than SHUTDOWN_TIMEOUT %s", took, timeout)
	}
	for _, bad := range []string{"requests still running at the end of the grace period", "stop jobs: cancelling", "Hard stop started"} {
		if strings.Contains(a.logs.String(), bad) {
			t.Errorf("the instance logged %q: it did not stop softly", bad)
		}
	}
	if len(failures) > 0 {
		t.Errorf("%d of %d page loads failed before the instance stopped listening: %v", len(failures), answered, failures[:min(len(failures), 5)])
	}
	var lines int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM return_lines`).Scan(&lines); err != nil || lines != 1 {
		t.Errorf("%d lines saved by the change in flight, want 1 (%v)", lines, err)
	}
	jobState := func(date string) (state string, attemptedBy []string) {
		t.Helper()
		if err := pool.QueryRow(ctx, `SELECT state::text, coalesce(attempted_by, '{}') FROM river_job WHERE kind = 'nightly' AND args->>'date' = $1`, date).Scan(&state, &attemptedBy); err != nil {
			t.Fatal(err)
		}
		return state, attemptedBy
	}
	for _, d := range nights[:2] {
		if state, by := jobState(d); state != "completed" || len(by) != 1 {
			t.Errorf("the night of %s running at SIGTERM: %s, attempted by %v; want completed at its first attempt", d, state, by)
		}
	}
	_, aClients := jobState(nights[0])
	if state, by := jobState(nights[2]); state != "available" || len(by) != 0 {
		t.Fatalf("the night of %s waiting at SIGTERM is %s (attempted by %v), want still available", nights[2], state, by)
	}
	t.Logf("stopped %s after SIGTERM; %d pages answered meanwhile", took.Round(10*time.Millisecond), answered)

	// The next instance works the job the first left waiting.
	b := startInstance(t, env)
	waitFor(t, pool, "the next instance working the night left waiting",
		`(SELECT state = 'completed' FROM river_job WHERE kind = 'nightly' AND args->>'date' = $1)`, nights[2])
	if _, by := jobState(nights[2]); len(by) != 1 || by[0] == aClients[0] {
		t.Errorf("the night left waiting was attempted by %v, want the next instance, not %v", by, aClients)
	}
	b.stop()
	if <-b.done; b.err != nil {
		t.Fatal(b.err)
	}
	var succeeded, failed int
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE outcome = 'succeeded'), count(*) FILTER (WHERE outcome <> 'succeeded' OR outcome IS NULL)
		FROM job_runs WHERE business_date = ANY($1::date[])`, nights).Scan(&succeeded, &failed); err != nil {
		t.Fatal(err)
	}
	if succeeded != 3 || failed != 0 {
		t.Errorf("job runs of the three nights: %d succeeded, %d not; want 3 and 0", succeeded, failed)
	}
}
