// Package jobs runs the tracker's background work on River: the nightly
// job at a fixed London time, scheduled by the elected leader only and
// unique per night, so that with several instances against one database
// the night's work is done once; and the sender of the outbox. Workers are
// thin: they call the domain packages.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/nightly"
	"ccgtracker/internal/org"
)

// NightlyArgs is one night's job; unique by its date, so however many
// instances schedule it, one runs.
type NightlyArgs struct {
	Date string `json:"date"` // YYYY-MM-DD, the London business day
}

// Kind names the job in River's tables.
func (NightlyArgs) Kind() string { return "nightly" }

// InsertOpts makes the night's job unique by its date.
func (NightlyArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// NightlyWorker does the night's work.
type NightlyWorker struct {
	river.WorkerDefaults[NightlyArgs]
	Pool *pgxpool.Pool
	Now  func() time.Time
}

// Work runs the night for its date.
func (w *NightlyWorker) Work(ctx context.Context, job *river.Job[NightlyArgs]) error {
	day, err := time.Parse(time.DateOnly, job.Args.Date)
	if err != nil {
		return river.JobCancel(fmt.Errorf("nightly job with a bad date %q: %w", job.Args.Date, err))
	}
	_, err = nightly.NewStore(w.Pool, w.Now).Run(ctx, org.System(), &day)
	return err
}

// DailyAt is a PeriodicSchedule firing at a time of day in London,
// whatever the clocks do in March and October.
type DailyAt struct{ Hour, Minute int }

// Next is the first time after current at the schedule's London time.
func (d DailyAt) Next(current time.Time) time.Time {
	local := current.In(dates.London)
	next := time.Date(local.Year(), local.Month(), local.Day(), d.Hour, d.Minute, 0, 0, dates.London)
	if !next.After(current) {
		next = time.Date(local.Year(), local.Month(), local.Day()+1, d.Hour, d.Minute, 0, 0, dates.London)
	}
	return next
}

// Config says how the background work runs.
type Config struct {
	NightlyAt DailyAt
	Mailer    Mailer // nil: messages stay in the outbox for admins to read
	BaseURL   string // the service's address, for the messages' links
	Now       func() time.Time
}

// NewClient builds the River client with the nightly job, its schedule and
// the outbox sender. Start it with Start, stop it with Stop.
func NewClient(pool *pgxpool.Pool, cfg Config, log *slog.Logger) (*river.Client[pgx.Tx], error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &NightlyWorker{Pool: pool, Now: cfg.Now})
	periodic := []*river.PeriodicJob{
		river.NewPeriodicJob(cfg.NightlyAt, func() (river.JobArgs, *river.InsertOpts) {
			return NightlyArgs{Date: dates.Today(cfg.Now()).Format(time.DateOnly)}, nil
		}, &river.PeriodicJobOpts{ID: "nightly"}),
	}
	if cfg.Mailer != nil {
		river.AddWorker(workers, &SendWorker{Pool: pool, Mailer: cfg.Mailer, BaseURL: cfg.BaseURL, Now: cfg.Now})
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return SendArgs{}, nil },
			&river.PeriodicJobOpts{ID: "send-outbox", RunOnStart: true}))
	}
	return river.NewClient(riverpgxv5.New(pool), &river.Config{
		Logger:       log,
		PeriodicJobs: periodic,
		Queues:       map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
		Workers:      workers,
	})
}
