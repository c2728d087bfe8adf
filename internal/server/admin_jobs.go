package server

import (
	"fmt"
	"net/http"
	"strconv"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/nightly"
	"ccgtracker/internal/outbox"
	"ccgtracker/web/views"
)

const stamp = "2 January 2006 15:04"

// adminJobs lists the nightly job's runs.
func (s *Server) adminJobs(w http.ResponseWriter, r *http.Request) error {
	runs, err := nightly.Runs(r.Context(), s.pool, 50)
	if err != nil {
		return err
	}
	rows := make([]views.JobRunRow, len(runs))
	for i, run := range runs {
		rows[i] = jobRunRow(run)
	}
	at := fmt.Sprintf("%02d:%02d", s.cfg.NightlyHour, s.cfg.NightlyMinute)
	s.render(w, r, http.StatusOK, views.AdminJobs(views.AdminJobsPage{
		Page: s.page(r, "Nightly job", views.Link{Label: "Dashboard", Href: "/"}), Runs: rows, NightlyAt: at,
	}))
	return nil
}

// adminJobsRun runs the nightly job now, for today; it does only what the
// night has not done yet.
func (s *Server) adminJobsRun(w http.ResponseWriter, r *http.Request) error {
	res, err := s.nightly.Run(r.Context(), currentUser(r).Actor(), nil)
	if err != nil {
		return err
	}
	s.flash(r.Context(), fmt.Sprintf("The nightly job ran: %d returns issued, %d flagged late, %d reminders queued, %d services ended.",
		res.Issued, res.Flagged, res.Reminders, res.Ceased))
	return redirect(w, r, "/admin/jobs")
}

// adminOutbox shows the reminders queued, with their text.
func (s *Server) adminOutbox(w http.ResponseWriter, r *http.Request) error {
	msgs, err := outbox.Recent(r.Context(), s.pool, 200)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, views.AdminOutbox(views.AdminOutboxPage{
		Page: s.page(r, "Outbox", views.Link{Label: "Nightly job", Href: "/admin/jobs"}), Messages: s.messageRows(msgs), SMTPConfigured: s.cfg.SMTPHost != "",
	}))
	return nil
}

// messageRows shows messages of the outbox as they are (or will be) sent,
// with their links made from BASE_URL.
func (s *Server) messageRows(msgs []outbox.Queued) []views.MessageRow {
	rows := make([]views.MessageRow, len(msgs))
	for i, m := range msgs {
		status, tone := "Not sent yet", views.ToneNeutral
		if m.SentAt != nil {
			status, tone = "Sent "+m.SentAt.In(dates.London).Format(stamp), views.ToneGood
		}
		rows[i] = views.MessageRow{Kind: m.Kind.Name(), To: m.To, Subject: m.Subject, Body: m.Text(s.cfg.BaseURL.String()),
			Created: m.CreatedAt.In(dates.London).Format(stamp), Status: status, StatusTone: tone, LastError: m.LastError}
	}
	return rows
}

// jobRunRow is a run of the nightly job as the admin's pages show it (the
// jobs page and the dashboard).
func jobRunRow(run nightly.RunRecord) views.JobRunRow {
	return views.JobRunRow{
		BusinessDate: dates.Long(run.BusinessDate), Started: run.StartedAt.In(dates.London).Format(stamp),
		Outcome: run.Outcome, OutcomeTone: runTone(run.Outcome), TriggeredBy: run.TriggeredBy, Error: run.Error,
		Issued: strconv.Itoa(run.Issued), Flagged: strconv.Itoa(run.Flagged), Reminders: strconv.Itoa(run.Reminders), Ceased: strconv.Itoa(run.Ceased),
	}
}

// runTone is the tone of a run's outcome: done, failed, or still running.
func runTone(outcome string) views.Tone {
	switch outcome {
	case "succeeded":
		return views.ToneGood
	case "failed":
		return views.ToneBad
	}
	return views.ToneProgress
}
