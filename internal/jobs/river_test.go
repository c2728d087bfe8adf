package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/jobs"
	"ccgtracker/internal/postgres/pgtest"
)

// Two instances of the service, as two River clients on one database,
// both schedule the same night: the job is inserted once and worked once,
// and the reminders are queued once.
func TestTwoInstancesDoTheNightOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	if _, err := pool.Exec(ctx, `INSERT INTO users (email, name, role) VALUES ('r@example.nhs.uk', 'R', 'reviewer')`); err != nil {
		t.Fatal(err)
	}
	night := time.Date(2026, 12, 1, 1, 0, 0, 0, dates.London)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := jobs.Config{NightlyAt: jobs.DailyAt{Hour: 1}, Now: func() time.Time { return night }}

	var clients []*river.Client[pgx.Tx]
	for range 2 {
		c, err := jobs.NewClient(pool, cfg, log)
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	completed, cancel := clients[0].Subscribe(river.EventKindJobCompleted)
	defer cancel()
	completed2, cancel2 := clients[1].Subscribe(river.EventKindJobCompleted)
	defer cancel2()

	args := jobs.NightlyArgs{Date: "2026-12-01"}
	first, err := clients[0].Insert(ctx, args, nil)
	if err != nil {
		t.Fatal(err)
	}
	second, err := clients[1].Insert(ctx, args, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !second.UniqueSkippedAsDuplicate || second.Job.ID != first.Job.ID {
		t.Errorf("the second instance's insert made job %d (skipped %v), want the first's %d", second.Job.ID, second.UniqueSkippedAsDuplicate, first.Job.ID)
	}
	for _, c := range clients {
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case ev := <-completed:
		if ev.Job.Kind != "nightly" {
			t.Errorf("completed %s", ev.Job.Kind)
		}
	case ev := <-completed2:
		if ev.Job.Kind != "nightly" {
			t.Errorf("completed %s", ev.Job.Kind)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the night's job was not worked within 30 seconds")
	}
	for _, c := range clients {
		stopCtx, stop := context.WithTimeout(ctx, 10*time.Second)
		if err := c.Stop(stopCtx); err != nil {
			t.Error(err)
		}
		stop()
	}
	var runs, returns int
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM job_runs), (SELECT count(*) FROM tracker_returns)`).Scan(&runs, &returns); err != nil {
		t.Fatal(err)
	}
	if runs != 1 || returns != 106 {
		t.Errorf("%d runs and %d returns, want 1 run issuing 106", runs, returns)
	}
}
