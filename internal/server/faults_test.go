package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/testkit"
)

// lockReturnSQL begins every transaction that changes a return
// (tracker.lock): the transactions the killer cuts.
const lockReturnSQL = "FROM tracker_returns WHERE ccg_code = $1 AND period = $2 AND ($3 OR ccg_code = $4) FOR UPDATE"

// killer is a pgx tracer that terminates its own connection's backend,
// through another connection, just before the n-th statement of the next
// transaction that changes a return is sent (the lock is statement 1, the
// commit the last). The kill is placed by the code's own statements, not
// by timing, so every point of the transaction can be tried in turn.
type killer struct {
	admin *pgxpool.Pool // a pool of its own, to terminate backends with

	mu       sync.Mutex
	target   int // 0: disarmed
	inTx     bool
	begun    bool // a "begin" was just sent on the connection being watched
	count    int
	killedAt string   // the statement it was about to send when it killed
	seen     []string // the statements of the last transaction watched
}

// arm sets the kill for statement n of the next return transaction.
func (k *killer) arm(n int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.target, k.inTx, k.begun, k.count, k.killedAt, k.seen = n, false, false, 0, "", nil
}

// result says what the armed kill did: the statement it cut before, or
// "" when the transaction had fewer statements than the target (it ran
// to its end), and every statement of that transaction it saw.
func (k *killer) result() (killedAt string, seen []string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.killedAt, k.seen
}

func (k *killer) statement(ctx context.Context, conn *pgx.Conn, sql string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.target == 0 || k.killedAt != "" {
		return
	}
	sql = strings.Join(strings.Fields(sql), " ")
	switch {
	case sql == "begin":
		k.begun = true
		return
	case k.begun && !k.inTx && strings.Contains(sql, lockReturnSQL):
		k.inTx, k.count, k.seen = true, 0, nil
	case !k.inTx:
		k.begun = false
		return
	}
	k.count++
	k.seen = append(k.seen, sql)
	if sql == "commit" || sql == "rollback" {
		k.inTx, k.begun = false, false
	}
	if k.count != k.target {
		if !k.inTx {
			k.target = 0 // the transaction ended before the target: nothing killed
		}
		return
	}
	// Wait until the backend is gone (it leaves pg_stat_activity as it
	// exits), so the statement about to be sent meets a dead connection.
	// pg_terminate_backend's own wait looks only every 100 ms.
	bg, pid := context.WithoutCancel(ctx), conn.PgConn().PID()
	var ok bool
	if err := k.admin.QueryRow(bg, `SELECT pg_terminate_backend($1)`, pid).Scan(&ok); err != nil || !ok {
		panic(fmt.Sprintf("terminate backend %d: %v %v", pid, ok, err))
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		var alive bool
		if err := k.admin.QueryRow(bg, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)`, pid).Scan(&alive); err != nil {
			panic(err)
		}
		if !alive {
			break
		}
		if time.Now().After(deadline) {
			panic(fmt.Sprintf("backend %d still there 10 s after it was terminated", pid))
		}
		time.Sleep(time.Millisecond)
	}
	k.killedAt, k.inTx, k.target = sql, false, 0
}

// TraceQueryStart may kill before a statement.
func (k *killer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	k.statement(ctx, conn, data.SQL)
	return ctx
}

// TraceQueryEnd does nothing.
func (k *killer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart may kill before a batch.
func (k *killer) TraceBatchStart(ctx context.Context, conn *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	k.statement(ctx, conn, "batch")
	return ctx
}

// TraceBatchQuery does nothing.
func (k *killer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

// TraceBatchEnd does nothing.
func (k *killer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// TraceCopyFromStart may kill before a COPY.
func (k *killer) TraceCopyFromStart(ctx context.Context, conn *pgx.Conn, _ pgx.TraceCopyFromStartData) context.Context {
	k.statement(ctx, conn, "copy")
	return ctx
}

// TraceCopyFromEnd does nothing.
func (k *killer) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

// newKillerApp is newReturnApp on a pool traced by a killer.
func newKillerApp(t *testing.T) (*returnApp, *killer) {
	t.Helper()
	_, dbURL := pgtest.NewWithURL(t)
	admin, _ := pgtest.Open(t, dbURL, func(c *pgxpool.Config) { c.MaxConns = 2 })
	k := &killer{admin: admin}
	pool, _ := pgtest.Open(t, dbURL, func(c *pgxpool.Config) { c.ConnConfig.Tracer = k })
	return newReturnAppOn(t, pool), k
}

// digest is a fingerprint of what is written in every table but the sessions' and
// the sign-in throttle's (which requests write as they go) and River's.
func digest(t *testing.T, pool *pgxpool.Pool) map[string]string {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `
		SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
		  AND table_name NOT IN ('sessions', 'login_failures', 'schema_migrations') AND table_name NOT LIKE 'river%'
		ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	// One statement for them all. A row written (inserted or updated) and
	// committed carries a newer transaction id (xmin) than any before the
	// request; a row deleted changes the count. Cheaper than hashing every
	// row's text (the practices' alone take 70 ms), so each try stays quick.
	var parts []string
	for _, name := range tables {
		parts = append(parts, `SELECT `+quoteLiteral(name)+`, count(*) || ':' || coalesce(max(xmin::text::bigint), 0) || ':' || coalesce(sum(xmin::text::bigint), 0) FROM `+pgx.Identifier{name}.Sanitize()+` t`)
	}
	rows, err = pool.Query(ctx, strings.Join(parts, " UNION ALL "))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var name, sum string
	if _, err := pgx.ForEachRow(rows, []any{&name, &sum}, func() error { out[name] = sum; return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// changedTables names the tables whose contents differ between two digests.
func changedTables(before, after map[string]string) []string {
	var changed []string
	for name, sum := range before {
		if after[name] != sum {
			changed = append(changed, name)
		}
	}
	return changed
}

// killSweep posts one request again and again, its transaction's backend
// terminated before statement 1, 2, 3 ... until the request runs whole:
// every cut leaves every table as it was and answers with the service's
// page, and the last try (the retry) succeeds. It returns how many cuts
// were made and the statements of the transaction that ran whole.
func killSweep(t *testing.T, app *returnApp, k *killer, post func() *http.Response, succeeded func(*http.Response) bool) (int, []string) {
	t.Helper()
	before := digest(t, app.pool)
	for n := 1; n <= 200; n++ {
		k.arm(n)
		resp := post()
		killedAt, seen := k.result()
		if killedAt == "" {
			if len(seen) == 0 {
				t.Fatalf("try %d: the request ran no transaction on the return (status %d)", n, resp.StatusCode)
			}
			if !succeeded(resp) {
				t.Fatalf("the retry after %d cuts failed: status %d: %.300s", n-1, resp.StatusCode, text(t, resp))
			}
			return n - 1, seen
		}
		body := text(t, resp)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
			!strings.Contains(body, "Sorry, the service is unavailable") || !strings.Contains(body, "nhsuk-") {
			t.Errorf("cut before statement %d (%.80s): status %d, Retry-After %q, want the service's 503 page: %.200s",
				n, killedAt, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
		if changed := changedTables(before, digest(t, app.pool)); len(changed) > 0 {
			t.Fatalf("cut before statement %d (%.80s): tables changed: %v", n, killedAt, changed)
		}
	}
	t.Fatal("the request's transaction never ran whole in 200 tries")
	return 0, nil
}

// The backend of a return's acceptance is terminated before each
// statement of its transaction in turn (the lock, the re-check, each
// service's change, its history and audit record, the return's status,
// the commit): every time the ledger, the return, its lines and the audit
// log are as before, the reviewer gets the 503 page, and the retry then
// accepts the return whole.
func TestConnectionKilledDuringAcceptanceLeavesNothingHalfDone(t *testing.T) {
	t.Parallel()
	app, k := newKillerApp(t)
	buyer := app.clientAs("buyer.16c@example.nhs.uk")
	var second string
	if err := app.pool.QueryRow(context.Background(), `
		SELECT 'SI' || id || '-' || practice_code FROM service_instances
		WHERE ccg_code = '16C' AND state = 'active' AND practice_code > $1 ORDER BY practice_code LIMIT 1`, app.practice).Scan(&second); err != nil {
		t.Fatal(err)
	}
	// Two services cease: the acceptance changes two services, each with
	// its history and audit record, before the return's own status.
	wantRedirect(t, buyer.post(novReturn+"/lines", app.cessation(versionOf(t, buyer, novReturn), "20")), novReturn)
	other := app.cessation(versionOf(t, buyer, novReturn), "21")
	other.Set("instance", second)
	wantRedirect(t, buyer.post(novReturn+"/lines", other), novReturn)
	app.endNovember(buyer) // November's return is sent once November is over
	wantRedirect(t, buyer.post(novReturn+"/submit", url.Values{"version": {versionOf(t, buyer, novReturn)}}), novReturn)

	reviewer := app.clientAs("reviewer@example.nhs.uk")
	version := versionOf(t, reviewer, novReturn+"/review")
	cuts, seen := killSweep(t, app, k, func() *http.Response {
		return reviewer.post(novReturn+"/accept", url.Values{"version": {version}})
	}, func(resp *http.Response) bool {
		return resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == novReturn+"/review"
	})
	t.Logf("acceptance cut before each of its %d statements, then accepted", cuts)
	if cuts < 8 || seen[len(seen)-1] != "commit" {
		t.Errorf("%d cuts, last statement %q: the sweep did not cover the transaction", cuts, seen[len(seen)-1])
	}
	if n := app.count(`SELECT count(*) FROM tracker_returns WHERE ccg_code = '16C' AND period = '2026-11-01' AND status = 'accepted'`); n != 1 {
		t.Error("the retry did not accept the return")
	}
	if n := app.count(`SELECT count(*) FROM service_instances WHERE 'SI' || id || '-' || practice_code IN ($1, $2) AND state = 'ceased'`, app.service, second); n != 2 {
		t.Errorf("%d of the 2 services ceased after the retry", n)
	}
	if n := app.count(`SELECT count(*) FROM audit_log WHERE action = 'return.accept'`); n != 1 {
		t.Errorf("%d acceptance audit records, want 1", n)
	}
	if n := app.count(`SELECT count(*) FROM audit_log WHERE action = 'service.change'`); n != 2 {
		t.Errorf("%d service change audit records, want 2", n)
	}
}

// The backend of an upload is terminated before each statement of the
// transaction that adds its lines: no line is added, the return's version
// stays, nothing is audited; the retry adds every line.
func TestConnectionKilledDuringUploadLeavesNothingHalfDone(t *testing.T) {
	t.Parallel()
	app, k := newKillerApp(t)
	buyer := app.clientAs("buyer.16c@example.nhs.uk")
	var second, secondPractice string
	if err := app.pool.QueryRow(context.Background(), `
		SELECT 'SI' || id || '-' || practice_code, practice_code FROM service_instances
		WHERE ccg_code = '16C' AND state = 'active' AND practice_code > $1 ORDER BY practice_code LIMIT 1`, app.practice).Scan(&second, &secondPractice); err != nil {
		t.Fatal(err)
	}
	file := []byte(changesHeader +
		"cessation," + app.practice + "," + app.service + ",,,,2026-11-20,left the practice\n" +
		"cessation," + secondPractice + "," + second + ",,,,2026-11-21,\n")
	version := versionOf(t, buyer, novReturn)
	cuts, seen := killSweep(t, app, k, func() *http.Response {
		return buyer.upload(novReturn+"/upload", version, "changes.csv", file)
	}, func(resp *http.Response) bool {
		return resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == novReturn
	})
	t.Logf("upload cut before each of its %d statements, then added", cuts)
	if cuts < 5 || seen[len(seen)-1] != "commit" {
		t.Errorf("%d cuts, last statement %q: the sweep did not cover the transaction", cuts, seen[len(seen)-1])
	}
	if n := app.count(`SELECT count(*) FROM return_lines`); n != 2 {
		t.Errorf("%d lines after the retry, want 2", n)
	}
	if n := app.count(`SELECT count(*) FROM audit_log WHERE action = 'return.add_line'`); n != 2 {
		t.Errorf("%d add-line audit records after the retry, want 2", n)
	}
	if !strings.Contains(doc(t, buyer.get(novReturn)).Find(".nhsuk-notification-banner").Text(), "2 changes from changes.csv added") {
		t.Error("no flash after the retried upload")
	}
}

// pauser is a pgx tracer that holds the first statement containing a
// given text until released, so a test can act while a request is in the
// middle of its transaction.
type pauser struct {
	mu      sync.Mutex
	at      string
	reached chan struct{}
	release chan struct{}
}

// pauseAt arms the pause for the next statement containing sql.
func (p *pauser) pauseAt(sql string) (reached <-chan struct{}, release func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.at, p.reached, p.release = sql, make(chan struct{}), make(chan struct{})
	rel := p.release
	return p.reached, sync.OnceFunc(func() { close(rel) })
}

// TraceQueryStart holds the armed statement until it is released.
func (p *pauser) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	p.mu.Lock()
	hold := p.at != "" && strings.Contains(data.SQL, p.at)
	reached, release := p.reached, p.release
	if hold {
		p.at = ""
	}
	p.mu.Unlock()
	if hold {
		close(reached)
		<-release
	}
	return ctx
}

// TraceQueryEnd does nothing.
func (p *pauser) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// wantUnavailablePage checks a response is the service's own styled 503.
func wantUnavailablePage(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	body := text(t, resp)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "Sorry, the service is unavailable") || !strings.Contains(body, "nhsuk-header") {
		t.Errorf("%s: %d %q Retry-After %q, want the service's 503 page: %.200s", what, resp.StatusCode,
			resp.Header.Get("Content-Type"), resp.Header.Get("Retry-After"), body)
	}
}

// The database goes away (every connection cut, new ones refused, as when
// PostgreSQL stops) while a buyer's submission is half-way through its
// transaction and other people's pages load, then comes back. The
// submission is not half-saved (no submitted status, version, frozen copy
// or audit record: nothing written anywhere) and gets the 503 page; pages
// meanwhile get the 503 page with Retry-After, never a bare 500; /readyz
// says not ready and /healthz ok; once the database is back every request
// succeeds at once, without restarting the app, and the submission sent
// again goes through whole.
func TestDatabaseGoesAwayDuringASubmissionAndComesBack(t *testing.T) {
	t.Parallel()
	_, dbURL := pgtest.NewWithURL(t)
	p := &pauser{}
	pool, _ := pgtest.Open(t, dbURL, func(c *pgxpool.Config) { c.MaxConns = 6; c.ConnConfig.Tracer = p })
	app := newReturnAppOn(t, pool)
	buyer := app.clientAs("buyer.16c@example.nhs.uk")
	wantRedirect(t, buyer.post(novReturn+"/lines", app.cessation(versionOf(t, buyer, novReturn), "20")), novReturn)
	app.endNovember(buyer) // November's return is sent once November is over
	version := versionOf(t, buyer, novReturn)
	readers := []*client{app.clientAs("reviewer@example.nhs.uk"), app.clientAs("finance@example.nhs.uk"), app.clientAs("buyer.03q@example.nhs.uk")}
	pages := []string{"/ccgs/16C", "/returns?period=2026-11", "/ccgs/03Q"}
	before := digest(t, app.pool)

	door := testkit.DoorOf(t, app.pool, os.Getenv("TEST_DATABASE_URL"))

	// Pages load all along, from three people at once: each answer is a
	// page or the 503 page, never anything else.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var loadMu sync.Mutex
	loads := map[int]int{}
	for i, c := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 2000; n++ {
				select {
				case <-stop:
					return
				default:
				}
				resp := c.get(pages[i])
				loadMu.Lock()
				loads[resp.StatusCode]++
				loadMu.Unlock()
				if resp.StatusCode != http.StatusOK {
					wantUnavailablePage(t, "a page while the database came and went", resp)
				} else {
					_, _ = io.Copy(io.Discard, resp.Body)
				}
				resp.Body.Close()
			}
		}()
	}

	// The submission stops just before it keeps its frozen copy; the
	// database goes away under it.
	reached, release := p.pauseAt("INSERT INTO return_submissions")
	defer release()
	submitted := make(chan *http.Response, 1)
	go func() { submitted <- buyer.post(novReturn+"/submit", url.Values{"version": {version}}) }()
	select {
	case <-reached:
	case resp := <-submitted:
		t.Fatalf("the submission ended (status %d) before keeping its frozen copy", resp.StatusCode)
	}
	door.Shut()
	door.CutAll()
	release()
	wantUnavailablePage(t, "the submission cut off half-way", <-submitted)

	// Each connection the pool kept died with the database; the requests
	// that meet them and those that try new ones get the 503 page, until
	// the pool holds none.
	for deadline := time.Now().Add(20 * time.Second); app.pool.Stat().TotalConns() > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("the pool still holds %d connections to a database that is gone", app.pool.Stat().TotalConns())
		}
		wantUnavailablePage(t, "a page with the database gone", buyer.get("/ccgs/16C"))
	}
	wantUnavailablePage(t, "a page with the database gone", buyer.get(novReturn))
	wantStatus(t, buyer.get("/healthz"), http.StatusOK)
	wantStatus(t, buyer.get("/readyz"), http.StatusServiceUnavailable)

	// Back: every request succeeds at once.
	door.Open()
	wantStatus(t, buyer.get("/readyz"), http.StatusOK)
	close(stop)
	wg.Wait()
	for i, c := range readers {
		wantStatus(t, c.get(pages[i]), http.StatusOK)
	}
	if changed := changedTables(before, digest(t, app.pool)); len(changed) > 0 {
		t.Fatalf("the submission cut off half-way left changes in %v", changed)
	}
	if n := app.count(`SELECT count(*) FROM tracker_returns WHERE ccg_code = '16C' AND period = '2026-11-01' AND status = 'draft' AND version = $1`, version); n != 1 {
		t.Fatal("the return is not the draft it was")
	}

	// Sent again, the submission goes through whole.
	wantRedirect(t, buyer.post(novReturn+"/submit", url.Values{"version": {version}}), novReturn)
	if n := app.count(`
		SELECT count(*) FROM tracker_returns tr
		WHERE ccg_code = '16C' AND period = '2026-11-01' AND status = 'submitted' AND version = $1 + 1
		  AND (SELECT count(*) FROM return_submissions s WHERE s.return_id = tr.id) = 1
		  AND (SELECT count(*) FROM audit_log WHERE action = 'return.submit') = 1`, version); n != 1 {
		t.Error("the retried submission is not whole: status, version, frozen copy and audit record disagree")
	}
	t.Logf("pages while the database came and went, by status: %v", loads)
}
