package nightly_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/nightly"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/testkit"
	"ccgtracker/internal/tracker"
)

var ctx = context.Background()

// at is a London wall-clock time.
func at(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, dates.London)
}

func count(t *testing.T, pool *pgxpool.Pool, q string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// nightAt is the night's store with its clock standing at now.
func nightAt(pool *pgxpool.Pool, now time.Time) *nightly.Store {
	return nightly.NewStore(pool, testkit.NewClock(now).Now)
}

func run(t *testing.T, pool *pgxpool.Pool, now time.Time) nightly.Result {
	t.Helper()
	res, err := nightAt(pool, now).Run(ctx, org.System(), nil)
	if err != nil {
		t.Fatalf("run at %s: %v", now, err)
	}
	return res
}

// setUp issues October 2026's returns (16C due Friday 20 November) and
// adds a buyer for 16C and a reviewer.
func setUp(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := pgtest.New(t)
	oct, _ := tracker.ParsePeriod("2026-10")
	if _, err := tracker.NewStore(pool, testkit.NewClock(at(2026, 10, 1, 1, 0)).Now).Issue(ctx, org.System(), oct); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO users (email, name, role, ccg_code) VALUES ('b@example.nhs.uk', 'B', 'buyer', '16C');
		INSERT INTO users (email, name, role) VALUES ('r@example.nhs.uk', 'R', 'reviewer')`); err != nil {
		t.Fatal(err)
	}
	return pool
}

func TestLateIsFlaggedOnceWhateverTheRuns(t *testing.T) {
	t.Parallel()
	pool := setUp(t)
	// 03Q (also North East and Yorkshire, due 20 November) submits a
	// minute before its deadline; 16C has not submitted.
	if _, err := pool.Exec(ctx, `UPDATE tracker_returns SET status = 'submitted', submitted_at = $1 WHERE ccg_code = '03Q' AND period = '2026-10-01'`,
		at(2026, 11, 20, 23, 59)); err != nil {
		t.Fatal(err)
	}
	// The night of the due day: 16C is not late yet (CCGs of regions due
	// earlier in the month are).
	run(t, pool, at(2026, 11, 20, 1, 0))
	if n := count(t, pool, `SELECT count(*) FROM tracker_returns WHERE ccg_code = '16C' AND late_at IS NOT NULL`); n != 0 {
		t.Error("16C flagged on its due day")
	}
	first := run(t, pool, at(2026, 11, 21, 1, 0))
	again := run(t, pool, at(2026, 11, 21, 1, 5))
	if again.Flagged != 0 {
		t.Errorf("the second run flagged %d more", again.Flagged)
	}
	if first.Flagged == 0 {
		t.Fatal("nothing flagged the night after the due day")
	}
	var lateAt time.Time
	if err := pool.QueryRow(ctx, `SELECT late_at FROM tracker_returns WHERE ccg_code = '16C' AND period = '2026-10-01'`).Scan(&lateAt); err != nil {
		t.Fatal(err)
	}
	if !lateAt.Equal(at(2026, 11, 21, 0, 0)) {
		t.Errorf("16C became late at %s, want midnight London after the due day", lateAt)
	}
	if n := count(t, pool, `SELECT count(*) FROM tracker_returns WHERE ccg_code = '03Q' AND late_at IS NOT NULL`); n != 0 {
		t.Errorf("the on-time return of 03Q was flagged")
	}
	// Submitted late, it stays recorded as late, with its days late.
	if _, err := pool.Exec(ctx, `UPDATE tracker_returns SET status = 'submitted', submitted_at = $1 WHERE ccg_code = '16C' AND period = '2026-10-01'`, at(2026, 11, 24, 10, 0)); err != nil {
		t.Fatal(err)
	}
	run(t, pool, at(2026, 11, 25, 1, 0))
	r, err := tracker.Get(ctx, pool, orgAll(), "16C", mustPeriod("2026-10"))
	if err != nil {
		t.Fatal(err)
	}
	if r.LateAt == nil || r.DaysLate(at(2026, 12, 30, 12, 0)) != 4 {
		t.Errorf("16C submitted on the 24th: late at %v, %d days late, want 4", r.LateAt, r.DaysLate(at(2026, 12, 30, 12, 0)))
	}
}

func TestFirstOfTheMonthIssuesOneReturnPerCCG(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	res := run(t, pool, at(2026, 12, 1, 1, 0))
	res2 := run(t, pool, at(2026, 12, 1, 1, 0))
	if res.Issued != 106 || res2.Issued != 0 {
		t.Errorf("issued %d then %d, want 106 then 0", res.Issued, res2.Issued)
	}
	if n := count(t, pool, `SELECT count(*) FROM tracker_returns WHERE period = '2026-12-01'`); n != 106 {
		t.Errorf("%d December returns", n)
	}
	// A night missed on the 1st is caught up on the 2nd.
	pool2 := pgtest.New(t)
	if res := run(t, pool2, at(2027, 1, 2, 1, 0)); res.Issued != 106 {
		t.Errorf("the 2nd caught up %d returns, want 106", res.Issued)
	}
}

func TestDueDatesAcrossTheClockChanges(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	// March 2027's returns for London CCGs are due on Thursday 8 April,
	// in British Summer Time: the deadline is 23:00 UTC.
	if _, err := tracker.NewStore(pool, testkit.NewClock(at(2027, 3, 1, 1, 0)).Now).Issue(ctx, org.System(), mustPeriod("2027-03")); err != nil {
		t.Fatal(err)
	}
	// One second before midnight London: not late; at midnight: late.
	var londonCCG string
	if err := pool.QueryRow(ctx, `SELECT c.code FROM ccgs c WHERE c.region_code = 'Y56' ORDER BY code LIMIT 1`).Scan(&londonCCG); err != nil {
		t.Fatal(err)
	}
	run(t, pool, at(2027, 4, 8, 23, 59).Add(59*time.Second))
	if n := count(t, pool, `SELECT count(*) FROM tracker_returns WHERE ccg_code = $1 AND period = '2027-03-01' AND late_at IS NOT NULL`, londonCCG); n != 0 {
		t.Error("flagged before midnight London (BST)")
	}
	run(t, pool, at(2027, 4, 9, 0, 0))
	var lateAt time.Time
	if err := pool.QueryRow(ctx, `SELECT late_at FROM tracker_returns WHERE ccg_code = $1 AND period = '2027-03-01'`, londonCCG).Scan(&lateAt); err != nil {
		t.Fatal(err)
	}
	if !lateAt.Equal(time.Date(2027, 4, 8, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("late at %s UTC, want 23:00 UTC (midnight BST)", lateAt.UTC())
	}
}

func TestRemindersAreQueuedOnce(t *testing.T) {
	t.Parallel()
	pool := setUp(t)
	// Three days before the due date (17 November): the buyer is reminded.
	run(t, pool, at(2026, 11, 17, 1, 0))
	run(t, pool, at(2026, 11, 17, 1, 30))
	if n := count(t, pool, `SELECT count(*) FROM outbox WHERE kind = 'due_soon' AND to_address = 'b@example.nhs.uk'`); n != 1 {
		t.Errorf("%d due-soon reminders to the buyer, want 1", n)
	}
	// The day after it was missed, and weekly after: two runs at once
	// (two instances) queue each message once.
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := nightAt(pool, at(2026, 11, 21, 1, 0)).Run(ctx, org.System(), nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	run(t, pool, at(2026, 11, 28, 1, 0))
	if n := count(t, pool, `SELECT count(*) FROM outbox WHERE kind = 'overdue' AND to_address = 'b@example.nhs.uk'`); n != 2 {
		t.Errorf("%d overdue reminders to the buyer, want 2 (21st and 28th)", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM outbox WHERE kind = 'late_digest' AND to_address = 'r@example.nhs.uk' AND body LIKE '%NHS Tees Valley CCG (16C)%'`); n < 2 {
		t.Errorf("%d digests naming 16C to the reviewer, want one each morning from the 21st", n)
	}
	// The nights between the 21st and the 28th were missed: the 28th's run
	// caught them up, so the reviewer has one digest for every morning
	// from the 17th (CCGs of other regions were late from the 10th).
	if n := count(t, pool, `SELECT count(DISTINCT dedupe_key) FROM outbox WHERE kind = 'late_digest' AND to_address = 'r@example.nhs.uk'`); n != 12 {
		t.Errorf("%d digests, want 12 (17th to 28th)", n)
	}
}

// A run cancelled half-way leaves nothing half-done, and the next run
// completes the night.
func TestInterruptedRunLeavesNothingHalfDone(t *testing.T) {
	pool := setUp(t)
	cctx, cancel := context.WithCancel(ctx)
	nightly.SetBeforeCommit(func(context.Context) { cancel() })
	_, err := nightAt(pool, at(2026, 11, 21, 1, 0)).Run(cctx, org.System(), nil)
	nightly.SetBeforeCommit(nil)
	if err == nil {
		t.Fatal("the interrupted run reported success")
	}
	if n := count(t, pool, `SELECT count(*) FROM tracker_returns WHERE late_at IS NOT NULL`); n != 0 {
		t.Errorf("%d returns flagged by the interrupted run", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM outbox`); n != 0 {
		t.Errorf("%d messages queued by the interrupted run", n)
	}
	if n := count(t, pool, `SELECT count(*) FROM job_runs WHERE outcome = 'failed' AND error <> ''`); n != 1 {
		t.Errorf("the interrupted run is not recorded as failed")
	}
	res := run(t, pool, at(2026, 11, 21, 1, 10))
	if res.Flagged == 0 || res.Reminders == 0 {
		t.Errorf("the next run: %+v", res)
	}
}

func mustPeriod(s string) tracker.Period {
	p, ok := tracker.ParsePeriod(s)
	if !ok {
		panic(s)
	}
	return p
}

func orgAll() org.Scope { return org.AllCCGs() }

// The night's date is today or earlier: on 2 December, a run for the 22nd
// is refused in words, records no run and changes nothing (it once told
// buyers their return was late, and would have ended services early).
func TestNightlyRefusesADateThatHasNotCome(t *testing.T) {
	t.Parallel()
	pool := setUp(t)
	future := dates.Date(2026, 12, 22)
	_, err := nightAt(pool, at(2026, 12, 2, 10, 0)).Run(ctx, org.System(), &future)
	if apperr.CodeOf(err) != apperr.Invalid || !strings.Contains(apperr.MessageOf(err), "not for 22 December 2026: today is 2 December 2026") {
		t.Fatalf("a run for 22 December on the 2nd: %v, want a refusal naming both days", err)
	}
	if n := count(t, pool, `SELECT count(*) FROM job_runs`) + count(t, pool, `SELECT count(*) FROM outbox`) +
		count(t, pool, `SELECT count(*) FROM tracker_returns WHERE late_at IS NOT NULL`); n != 0 {
		t.Errorf("the refused run left %d runs, messages or late flags", n)
	}
	today := dates.Date(2026, 12, 2)
	if _, err := nightAt(pool, at(2026, 12, 2, 10, 0)).Run(ctx, org.System(), &today); err != nil {
		t.Errorf("a run for today: %v", err)
	}
}

// A missed night recovered later does what that night would have: run on
// 30 November for the 20th, it flags nothing due on the 20th (late only
// from the 21st), though by the real clock it is late.
func TestARecoveredNightFlagsAsOfItsOwnDate(t *testing.T) {
	t.Parallel()
	pool := setUp(t)
	night := dates.Date(2026, 11, 20)
	if _, err := nightAt(pool, at(2026, 11, 30, 9, 0)).Run(ctx, org.System(), &night); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM tracker_returns WHERE ccg_code = '16C' AND late_at IS NOT NULL`); n != 0 {
		t.Error("the night of the 20th, run on the 30th, flagged 16C, due on the 20th")
	}
	night = dates.Date(2026, 11, 21)
	if _, err := nightAt(pool, at(2026, 11, 30, 9, 0)).Run(ctx, org.System(), &night); err != nil {
		t.Fatal(err)
	}
	if n := count(t, pool, `SELECT count(*) FROM tracker_returns WHERE ccg_code = '16C' AND late_at IS NOT NULL`); n != 1 {
		t.Error("the night of the 21st did not flag 16C")
	}
}

// The reviewers' digest counts CCGs, not returns: a CCG late with two
// months is one CCG late.
func TestDigestCountsCCGs(t *testing.T) {
	t.Parallel()
	pool := setUp(t)
	nov, _ := tracker.ParsePeriod("2026-11")
	if _, err := tracker.NewStore(pool, testkit.NewClock(at(2026, 11, 1, 1, 0)).Now).Issue(ctx, org.System(), nov); err != nil {
		t.Fatal(err)
	}
	// Everyone but 16C has submitted both months; 16C neither.
	if _, err := pool.Exec(ctx, `UPDATE tracker_returns SET status = 'submitted', submitted_at = $1 WHERE ccg_code <> '16C'`, at(2026, 11, 2, 9, 0)); err != nil {
		t.Fatal(err)
	}
	run(t, pool, at(2027, 1, 5, 1, 0))
	var subject, body string
	if err := pool.QueryRow(ctx, `SELECT subject, body FROM outbox WHERE kind = 'late_digest' ORDER BY id DESC LIMIT 1`).Scan(&subject, &body); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(subject, "1 CCG is late") {
		t.Errorf("digest subject %q, want it to count 1 CCG", subject)
	}
	if strings.Count(body, "NHS Tees Valley CCG (16C)") != 2 {
		t.Errorf("the digest does not list 16C's two late returns:\n%s", body)
	}
}
