package server

import (
	"net/http"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/org"
	"ccgtracker/internal/tracker"
	"ccgtracker/web/views"
)

// dashboard is each role's home: a buyer sees their CCG, everyone else
// the CCGs counted by region.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	if u.Role == auth.Buyer {
		c, err := org.GetCCG(r.Context(), s.pool, u.Scope(), u.CCGCode)
		if err != nil {
			return err
		}
		history, err := tracker.History(r.Context(), s.pool, u.Scope(), u.CCGCode)
		if err != nil {
			return err
		}
		current, earlier := s.returnSummaries(history)
		s.render(w, r, http.StatusOK, views.BuyerDashboard(s.page(r, c.Name), ccgRow(c), current, earlier))
		return nil
	}
	regions, err := org.ListRegions(r.Context(), s.pool, u.Scope())
	if err != nil {
		return err
	}
	rows := make([]views.RegionRow, len(regions))
	var ccgs, practices int
	for i, rg := range regions {
		rows[i] = views.RegionRow{Code: rg.Code, Name: rg.Name, DueDay: rg.DueDay, CCGs: rg.CCGCount, Practices: rg.PracticeCount}
		ccgs += rg.CCGCount
		practices += rg.PracticeCount
	}
	s.render(w, r, http.StatusOK, views.OverviewDashboard(s.page(r, "Dashboard"), rows, ccgs, practices))
	return nil
}

// returnSummaries picks the return a buyer must act on now (the open one
// due first, or else the newest) and lists the rest with their outcome.
func (s *Server) returnSummaries(history []tracker.Return) (*views.ReturnSummary, []views.ReturnSummary) {
	now := s.now()
	today := dates.Today(now)
	summarise := func(r tracker.Return) views.ReturnSummary {
		v := views.ReturnSummary{
			Period: r.Period.String(), PeriodName: r.Period.Name(), Status: r.Status.Name(), StatusTag: returnTag(r.Status),
			DueDate: dates.Long(r.DueDate), Href: "/ccgs/" + r.CCGCode + "/returns/" + r.Period.String(),
			DaysLate: r.DaysLate(now), Open: r.Status.Editable(),
		}
		if v.Open && !r.DueDate.Before(today) {
			v.DaysLeft = int(r.DueDate.Sub(today).Hours() / 24)
		}
		return v
	}
	currentAt := -1
	for i, r := range history {
		if r.Status.Editable() && (currentAt < 0 || r.DueDate.Before(history[currentAt].DueDate)) {
			currentAt = i
		}
	}
	if currentAt < 0 && len(history) > 0 {
		currentAt = 0
	}
	var current *views.ReturnSummary
	var earlier []views.ReturnSummary
	for i, r := range history {
		v := summarise(r)
		if i == currentAt {
			current = &v
		} else {
			earlier = append(earlier, v)
		}
	}
	return current, earlier
}

// returnTag is the colour of a return's status.
func returnTag(st tracker.Status) string {
	switch st {
	case tracker.Accepted:
		return "nhsuk-tag--green"
	case tracker.Submitted:
		return "nhsuk-tag--blue"
	case tracker.Returned:
		return "nhsuk-tag--orange"
	case tracker.Draft:
		return "nhsuk-tag--yellow"
	}
	return "nhsuk-tag--grey"
}
