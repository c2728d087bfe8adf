package server

import (
	"net/http"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/org"
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
		s.render(w, r, http.StatusOK, views.BuyerDashboard(s.page(r, c.Name), ccgRow(c)))
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
