package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/postgres"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/refdata"
	"ccgtracker/internal/testkit"
)

// smallPool opens a pool of n connections on a fresh database, the way
// `tracker serve` opens its own (tracer, acquire timeout).
func smallPool(t *testing.T, n int32) *pgxpool.Pool {
	t.Helper()
	_, url := pgtest.NewWithURL(t)
	pool, err := postgres.Open(context.Background(), url, postgres.PoolOptions{MaxConns: n, AcquireTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// seedContinuity gives every practice its GP system's continuity service:
// a month's export is then some 6,000 lines, about 1.5 MB of CSV, far
// more than a stalled client's socket buffers hold.
func seedContinuity(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	if err := postgres.Tx(ctx, pool, func(tx pgx.Tx) error {
		_, err := ledger.SeedDemoContinuity(ctx, tx, time.Now(), refdata.FS(), dates.Date(2020, 1, 1))
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// smallSendBuffers gives the server's sockets small send buffers: on the
// loopback interface the kernel would otherwise take a whole export into
// them, and a client that stops reading would stall nothing.
func smallSendBuffers(ln net.Listener) net.Listener { return smallSendListener{ln} }

type smallSendListener struct{ net.Listener }

func (l smallSendListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return c, c.(*net.TCPConn).SetWriteBuffer(8192)
}

// slowReader is an HTTP client whose connections have a tiny receive
// buffer, so a response it does not read stalls the server's writes
// instead of landing in the kernel's buffers. widen gives them ordinary
// buffers again, for reading the rest at speed.
func slowReader(jar http.CookieJar) (c *http.Client, widen func()) {
	dialer := &net.Dialer{}
	var mu sync.Mutex
	var conns []*net.TCPConn
	c = &http.Client{Jar: jar, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			tc := c.(*net.TCPConn)
			mu.Lock()
			defer mu.Unlock()
			conns = append(conns, tc)
			return c, tc.SetReadBuffer(4096)
		},
		DisableKeepAlives: true,
	}}
	return c, func() {
		mu.Lock()
		defer mu.Unlock()
		for _, tc := range conns {
			_ = tc.SetReadBuffer(4 << 20)
		}
	}
}

// More downloads at once than the pool has connections, each one's client
// not reading at first: a page still answers meanwhile, and every
// download then completes whole. Before, each stalled export kept its
// connection, and the next request waited for one without end.
func TestMoreExportsThanConnectionsAllCompleteAndPagesAnswer(t *testing.T) {
	t.Parallel()
	pool := smallPool(t, 2)
	seedContinuity(t, pool)
	app := newTestAppListening(t, pool, smallSendBuffers, nil)
	finance := app.client()
	finance.signIn("finance@example.nhs.uk")
	// The session's seen time is now stale, so each export must write its
	// session back too: that must happen before its stream holds a
	// connection, not at its first flush.
	app.advance(2 * time.Minute)

	const exports = 5
	slow, widen := slowReader(finance.http.Jar)
	started := make(chan struct{}, exports)
	release := make(chan struct{})
	bodies := make([]string, exports)
	errs := make([]error, exports)
	var wg sync.WaitGroup
	for i := range exports {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, app.ts.URL+"/reconciliation/"+october+".csv", nil)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			resp, err := slow.Do(req)
			if err != nil {
				errs[i] = err
				started <- struct{}{}
				return
			}
			defer resp.Body.Close()
			started <- struct{}{}
			<-release
			b, err := io.ReadAll(resp.Body)
			bodies[i], errs[i] = string(b), err
			if err == nil && resp.StatusCode != http.StatusOK {
				errs[i] = &statusError{resp.StatusCode}
			}
		}()
	}
	// One download is streaming into a client that does not read.
	<-started

	other := app.client()
	other.signIn("reviewer@example.nhs.uk")
	resp := other.get("/ccgs/16C")
	wantStatus(t, resp, http.StatusOK)
	if h1 := doc(t, resp).Find("h1").Text(); h1 != "NHS Tees Valley CCG" {
		t.Errorf("a CCG's page while downloads streamed: heading %q", h1)
	}

	widen()
	close(release)
	wg.Wait()
	for i := range exports {
		if errs[i] != nil {
			t.Fatalf("download %d: %v", i+1, errs[i])
		}
		if !strings.Contains(bodies[i], "Totals by CCG") || len(bodies[i]) < 1_000_000 {
			t.Fatalf("download %d is not whole: %d bytes", i+1, len(bodies[i]))
		}
		if bodies[i] != bodies[0] {
			t.Errorf("download %d differs from the first", i+1)
		}
	}
}

type statusError struct{ code int }

func (e *statusError) Error() string { return "status " + http.StatusText(e.code) }

// A request that cannot get a connection within the acquire timeout gets
// the service's 503 page with Retry-After, not a hang.
func TestBusyPoolAnswersServiceUnavailable(t *testing.T) {
	t.Parallel()
	_, url := pgtest.NewWithURL(t)
	pool, err := postgres.Open(context.Background(), url, postgres.PoolOptions{MaxConns: 2, AcquireTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	app := newTestAppOn(t, pool, nil)
	c := app.client()
	c.signIn("reviewer@example.nhs.uk")

	// Take every connection, as a burst of slow requests would. Opening
	// one may itself take longer than the 50 ms on a loaded machine: try
	// again then, for a bounded time. The connections are given back
	// however the test ends, or closing the pool would wait for them.
	ctx := context.Background()
	var held []*pgxpool.Conn
	defer func() {
		for _, conn := range held {
			conn.Release()
		}
	}()
	for deadline := time.Now().Add(30 * time.Second); len(held) < 2; {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			if time.Now().After(deadline) {
				t.Fatal(err)
			}
			continue
		}
		held = append(held, conn)
	}
	resp := c.get("/ccgs")
	body := text(t, resp)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("with the pool busy: status %d, Retry-After %q, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if !strings.Contains(body, "Sorry, the service is unavailable") || !strings.Contains(body, "nhsuk-") {
		t.Errorf("the 503 is not the service's own page: %.300s", body)
	}
	for _, conn := range held {
		conn.Release()
	}
	held = nil
	wantStatus(t, c.get("/ccgs"), http.StatusOK)
}

// sessionVersion is the row version of the client's session, which
// changes each time the session is written back.
func sessionVersion(t *testing.T, app *testApp, c *client) string {
	t.Helper()
	var xmin string
	if err := app.pool.QueryRow(context.Background(), `SELECT xmin::text FROM sessions WHERE token = $1`, c.sessionCookie()).Scan(&xmin); err != nil {
		t.Fatal(err)
	}
	return xmin
}

// Signed-in requests do not write the session back unless its idle clock
// has fallen a minute behind; the idle timeout still ends the session
// within a minute of its last use.
func TestSessionsWrittenBackAtMostOnceAMinute(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	c := app.client()
	c.signIn("reviewer@example.nhs.uk")
	signedIn := sessionVersion(t, app, c)

	for range 3 {
		app.advance(15 * time.Second)
		wantStatus(t, c.get("/"), http.StatusOK)
	}
	if v := sessionVersion(t, app, c); v != signedIn {
		t.Errorf("requests within a minute of sign-in wrote the session back")
	}
	app.advance(16 * time.Second) // 61 s after sign-in
	wantStatus(t, c.get("/"), http.StatusOK)
	touched := sessionVersion(t, app, c)
	if touched == signedIn {
		t.Fatalf("a request a minute after sign-in did not move the idle clock")
	}

	// Used 59 s after that write, which is not written back; then idle
	// until 30 minutes after the write: signed out, 29 min 1 s after its
	// last use, which is within the minute the idle clock may lag.
	app.advance(59 * time.Second)
	wantStatus(t, c.get("/"), http.StatusOK)
	if sessionVersion(t, app, c) != touched {
		t.Errorf("a request 59 s after the last write wrote the session back")
	}
	app.advance(30*time.Minute - 59*time.Second)
	resp := c.get("/")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("30 minutes after the idle clock last moved: %d to %q, want a redirect to sign in", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// "Stay signed in" restarts the idle clock at once, whatever its age.
func TestStaySignedInMovesTheIdleClock(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	c := app.client()
	c.signIn("reviewer@example.nhs.uk")
	app.advance(20 * time.Second)
	before := sessionVersion(t, app, c)
	wantStatus(t, c.post("/session/extend", nil), http.StatusNoContent)
	if sessionVersion(t, app, c) == before {
		t.Fatal("Stay signed in did not write the session")
	}
	app.advance(30*time.Minute - time.Second)
	wantStatus(t, c.get("/"), http.StatusOK)
}

// When the database cannot be reached, a signed-in request gets the
// service's own 503 page with Retry-After (not scs's plain-text 500),
// /healthz still answers for the process, /readyz says not ready, and the
// service recovers by itself when the database is back.
func TestDatabaseOutageGivesTheUnavailablePage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t, nil)
	c := app.client()
	c.signIn("reviewer@example.nhs.uk")
	door := testkit.DoorOf(t, app.pool, os.Getenv("TEST_DATABASE_URL"))
	door.Shut()
	door.CutAll()
	app.pool.Reset() // forget the connections that were cut

	resp := c.get("/ccgs/16C")
	body := text(t, resp)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "Sorry, the service is unavailable") {
		t.Errorf("signed in, database down: %d %q Retry-After %q: %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Retry-After"), body)
	}
	wantStatus(t, c.get("/healthz"), http.StatusOK)
	wantStatus(t, c.get("/readyz"), http.StatusServiceUnavailable)
	wantStatus(t, c.get("/static/app.css"), http.StatusOK)

	door.Open()
	wantStatus(t, c.get("/ccgs/16C"), http.StatusOK)
	wantStatus(t, c.get("/readyz"), http.StatusOK)
}
