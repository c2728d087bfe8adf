package server

import (
	"fmt"
	"net/http"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/billing"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/nightly"
	"ccgtracker/internal/org"
	"ccgtracker/internal/outbox"
	"ccgtracker/internal/tracker"
	"ccgtracker/web/views"
)

// dashboardRows is how many rows each list of a dashboard shows: the
// head of the work, with how many there are in all and a link to the rest.
const dashboardRows = 10

// dashboard is each role's home, showing that role's work: every list is
// one bounded query of the domain package that owns it, run one after
// another on the pool (never two connections at once).
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) error {
	switch currentUser(r).Role {
	case auth.Buyer:
		return s.buyerDashboard(w, r)
	case auth.Reviewer:
		return s.reviewerDashboard(w, r)
	case auth.Finance:
		return s.financeDashboard(w, r)
	case auth.Admin:
		return s.adminDashboard(w, r)
	}
	return fmt.Errorf("dashboard: no dashboard for the role %q", currentUser(r).Role)
}

// buyerDashboard: their CCG, the return to do now, and what needs
// attention this month, all of their own CCG (the scope says so in SQL).
func (s *Server) buyerDashboard(w http.ResponseWriter, r *http.Request) error {
	ctx, u := r.Context(), currentUser(r)
	c, err := org.GetCCG(ctx, s.pool, u.Scope(), u.CCGCode)
	if err != nil {
		return err
	}
	history, err := tracker.History(ctx, s.pool, u.Scope(), u.CCGCode)
	if err != nil {
		return err
	}
	today := dates.Today(s.now())
	month := tracker.PeriodOf(today)
	v := views.BuyerDashboardPage{CCG: ccgRow(c), MonthName: month.Name(), DueHref: "/ccgs/" + c.Code + "/services?state=planned"}
	v.Current, v.Earlier = s.returnSummaries(history)
	due, total, err := ledger.DueToGoLive(ctx, s.pool, c.Code, month.Last(), dashboardRows)
	if err != nil {
		return err
	}
	v.DueTotal = total
	for _, i := range due {
		v.DueToGoLive = append(v.DueToGoLive, views.DueService{
			Ref: i.Ref(), Href: ledgerInstancePath(i.CCGCode, i.ID), Practice: i.PracticeName + " (" + i.PracticeCode + ")",
			Item: i.ItemName, PlannedM1: dates.LongPtr(i.PlannedM1), Overdue: i.PlannedM1 != nil && i.PlannedM1.Before(today),
		})
	}
	waiting, total, err := tracker.AwaitingDate(ctx, s.pool, c.Code, dashboardRows)
	if err != nil {
		return err
	}
	v.AwaitingTotal = total
	for _, l := range waiting {
		v.AwaitingDate = append(v.AwaitingDate, views.AwaitingChange{
			Kind: l.Kind.Name(), Practice: l.PracticeName + " (" + l.PracticeCode + ")", Service: l.InstanceRef, Date: dates.Long(l.Date),
		})
	}
	v.Page = s.page(r, c.Name)
	s.render(w, r, http.StatusOK, views.BuyerDashboard(v))
	return nil
}

// reviewerDashboard: returns awaiting review, late CCGs, returns sent
// back, and the CCGs by region.
func (s *Server) reviewerDashboard(w http.ResponseWriter, r *http.Request) error {
	ctx, now := r.Context(), s.now()
	var v views.ReviewerDashboardPage
	var err error
	lists := []struct {
		into  *views.WorkList
		since func(tracker.WorkItem) string
		read  func() (tracker.Worklist, error)
	}{
		{&v.Awaiting, func(it tracker.WorkItem) string { return it.Since.In(dates.London).Format(stamp) },
			func() (tracker.Worklist, error) { return tracker.AwaitingReview(ctx, s.pool, dashboardRows) }},
		{&v.Late, func(it tracker.WorkItem) string { return dates.Long(it.DueDate) },
			func() (tracker.Worklist, error) { return tracker.LateNow(ctx, s.pool, now, dashboardRows) }},
		{&v.SentBack, func(it tracker.WorkItem) string { return dates.Long(dates.Today(it.Since)) },
			func() (tracker.Worklist, error) { return tracker.SentBack(ctx, s.pool, dashboardRows) }},
	}
	for _, l := range lists {
		wl, err := l.read()
		if err != nil {
			return err
		}
		l.into.Total = wl.Total
		for _, it := range wl.Items {
			l.into.Rows = append(l.into.Rows, views.WorkRow{
				CCGName: it.CCGName, CCGCode: it.CCGCode, PeriodName: it.Period.Name(), Href: reviewHref(it.Return),
				Status: it.Status.Name(), StatusTone: returnTone(it.Status), Since: l.since(it), DaysLate: it.DaysLate(now),
			})
		}
	}
	regions, err := org.ListRegions(ctx, s.pool, currentUser(r).Scope())
	if err != nil {
		return err
	}
	for _, rg := range regions {
		v.Regions = append(v.Regions, views.RegionRow{Code: rg.Code, Name: rg.Name, DueDay: rg.DueDay, CCGs: rg.CCGCount, Practices: rg.PracticeCount})
		v.TotalCCGs += rg.CCGCount
		v.TotalPractices += rg.PracticeCount
	}
	v.Page = s.page(r, "Returns to review")
	s.render(w, r, http.StatusOK, views.ReviewerDashboard(v))
	return nil
}

// reviewHref is where a reviewer opens a return: its review page.
func reviewHref(ret tracker.Return) string {
	return "/ccgs/" + ret.CCGCode + "/returns/" + ret.Period.String() + "/review"
}

// financeDashboard: the months ready to close, the money of the next one
// and the adjustments waiting, from the served reconciliation (at most two
// months computed, each once per input version).
func (s *Server) financeDashboard(w http.ResponseWriter, r *http.Request) error {
	desk, err := s.billing.Desk(r.Context(), dates.Today(s.now()), 12)
	if err != nil {
		return err
	}
	var v views.FinanceDashboardPage
	for _, m := range desk.Ready {
		p := tracker.PeriodOf(m)
		v.Ready = append(v.Ready, views.ReconMonth{Period: p.String(), Name: p.Name(), Href: "/reconciliation/" + p.String(),
			CloseHref: "/reconciliation/" + p.String() + "/close"})
	}
	money := func(m *billing.Month) *views.MonthMoney {
		if m == nil {
			return nil
		}
		p := tracker.PeriodOf(m.First)
		return &views.MonthMoney{Name: p.Name(), Href: "/reconciliation/" + p.String(),
			Payable: m.All.Payable.String(), Held: m.All.Held.String(), Adjustments: m.All.Adjustments.String()}
	}
	v.Next, v.Adjusting = money(desk.Next), money(desk.Adjusting)
	v.Page = s.page(r, "Reconciliation to do")
	s.render(w, r, http.StatusOK, views.FinanceDashboard(v))
	return nil
}

// adminDashboard: the last nightly run, the emails that failed and the
// users by role.
func (s *Server) adminDashboard(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	v := views.AdminDashboardPage{NightlyAt: fmt.Sprintf("%02d:%02d", s.cfg.NightlyHour, s.cfg.NightlyMinute)}
	runs, err := nightly.Runs(ctx, s.pool, 1)
	if err != nil {
		return err
	}
	if len(runs) == 1 {
		row := jobRunRow(runs[0])
		v.LastRun = &row
	}
	failed, total, err := outbox.Failed(ctx, s.pool, dashboardRows)
	if err != nil {
		return err
	}
	v.FailedTotal = total
	for _, m := range failed {
		v.Failed = append(v.Failed, views.MessageRow{Kind: m.Kind.Name(), To: m.To, Subject: m.Subject,
			Created: m.CreatedAt.In(dates.London).Format(stamp), LastError: m.LastError})
	}
	counts, err := auth.CountUsers(ctx, s.pool)
	if err != nil {
		return err
	}
	for _, c := range counts {
		v.Users = append(v.Users, views.UserCount{Role: c.Role.Name(), Active: c.Active, NoPassword: c.NoPassword, Gone: c.Gone})
	}
	v.Page = s.page(r, "Administration")
	s.render(w, r, http.StatusOK, views.AdminDashboard(v))
	return nil
}

// returnSummaries picks the return a buyer must act on now (the open one
// due first, or else the newest) and lists, as earlier returns, only those
// of months before it: a later month's return is not an earlier one.
func (s *Server) returnSummaries(history []tracker.Return) (*views.ReturnSummary, []views.ReturnSummary) {
	now := s.now()
	today := dates.Today(now)
	summarise := func(r tracker.Return) views.ReturnSummary {
		v := views.ReturnSummary{
			Period: r.Period.String(), PeriodName: r.Period.Name(), Status: r.Status.Name(), StatusTone: returnTone(r.Status),
			DueDate: dates.Long(r.DueDate), Href: "/ccgs/" + r.CCGCode + "/returns/" + r.Period.String(),
			DaysLate: r.DaysLate(now), Open: r.Editable,
		}
		if v.Open && !r.DueDate.Before(today) {
			v.DaysLeft = int(r.DueDate.Sub(today).Hours() / 24)
		}
		if v.Open && !r.Period.Ended(now) {
			v.SubmitFrom = dates.Long(r.Period.SubmittableFrom())
		}
		return v
	}
	currentAt := -1
	for i, r := range history {
		if r.Editable && (currentAt < 0 || r.DueDate.Before(history[currentAt].DueDate)) {
			currentAt = i
		}
	}
	if currentAt < 0 && len(history) > 0 {
		currentAt = 0
	}
	if currentAt < 0 {
		return nil, nil
	}
	current := summarise(history[currentAt])
	var earlier []views.ReturnSummary
	for _, r := range history { // newest first
		if r.Period.First().Before(history[currentAt].Period.First()) {
			earlier = append(earlier, summarise(r))
		}
	}
	return &current, earlier
}

// returnTone is the tone of a return's status: accepted is done,
// submitted under way, sent back needs the buyer, a draft waits on them.
func returnTone(st tracker.Status) views.Tone {
	switch st {
	case tracker.Accepted:
		return views.ToneGood
	case tracker.Submitted:
		return views.ToneProgress
	case tracker.Returned:
		return views.ToneWarning
	case tracker.Draft:
		return views.ToneNotice
	}
	return views.ToneNeutral
}
