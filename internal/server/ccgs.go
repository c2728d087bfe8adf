package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"ccgtracker/internal/auth"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/tracker"
	"ccgtracker/web/views"
)

const pageSize = 25

func ccgRow(c org.CCG) views.CCGRow {
	return views.CCGRow{
		Code: c.Code, Name: c.Name, Region: c.RegionName, STP: c.STPName,
		Practices: c.PracticeCount, Patients: c.Patients,
		DueDay: c.DueDay(), DueDayOverridden: c.DueDayOverride != nil,
	}
}

// ccgList is the searchable, paged list of CCGs in the user's scope.
func (s *Server) ccgList(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	q := r.URL.Query()
	filter := org.CCGFilter{Query: strings.TrimSpace(q.Get(views.CCGQueryInput)), Region: q.Get(views.RegionInput)}
	res, err := org.SearchCCGs(r.Context(), s.pool, u.Scope(), filter, paging.Parse(q.Get("page"), pageSize))
	if err != nil {
		return err
	}
	regions, err := org.ListRegions(r.Context(), s.pool, u.Scope())
	if err != nil {
		return err
	}
	options := []views.Option{{Value: "", Label: "All regions"}}
	for _, rg := range regions {
		options = append(options, views.Option{Value: rg.Code, Label: rg.Name})
	}
	rows := make([]views.CCGRow, len(res.Rows))
	for i, c := range res.Rows {
		rows[i] = ccgRow(c)
	}
	s.render(w, r, http.StatusOK, views.CCGList(views.CCGListPage{
		Page: s.page(r, "CCGs"), Rows: rows, Pager: pager(res, "/ccgs", url.Values{views.CCGQueryInput: {filter.Query}, views.RegionInput: {filter.Region}}),
		Query: filter.Query, Region: filter.Region, Regions: options,
	}))
	return nil
}

// ccgShow is one CCG with its practices; another CCG's page is a 404 to a buyer.
func (s *Server) ccgShow(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	c, err := org.GetCCG(r.Context(), s.pool, u.Scope(), strings.ToUpper(chi.URLParam(r, "code")))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	query := strings.TrimSpace(q.Get(views.CCGQueryInput))
	res, err := org.ListPractices(r.Context(), s.pool, u.Scope(), c.Code, query, paging.Parse(q.Get("page"), pageSize))
	if err != nil {
		return err
	}
	rows := make([]views.PracticeRow, len(res.Rows))
	for i, p := range res.Rows {
		rows[i] = practiceRow(p)
	}
	crumbs := []views.Link{{Label: "Dashboard", Href: "/"}}
	if u.Role != auth.Buyer {
		crumbs = append(crumbs, views.Link{Label: "CCGs", Href: "/ccgs"})
	}
	history, err := tracker.History(r.Context(), s.pool, u.Scope(), c.Code)
	if err != nil {
		return err
	}
	var late []string
	for _, ret := range history {
		if n := ret.DaysLate(s.now()); n > 0 && ret.Editable {
			late = append(late, fmt.Sprintf("The return for %s is %d %s late (due %s).", ret.Period.Name(), n, plural(n, "day"), dates.Long(ret.DueDate)))
		}
	}
	s.render(w, r, http.StatusOK, views.CCGShow(views.CCGShowPage{
		Page: s.page(r, c.Name, crumbs...), CCG: ccgRow(c), Practices: rows, Pager: pager(res, "/ccgs/"+c.Code, url.Values{views.CCGQueryInput: {query}}),
		Query: query, CanSetDueDay: u.Role == auth.Admin, Late: late,
	}))
	return nil
}

// practiceShow is one practice, within the user's scope.
func (s *Server) practiceShow(w http.ResponseWriter, r *http.Request) error {
	u := currentUser(r)
	p, err := org.GetPractice(r.Context(), s.pool, u.Scope(), strings.ToUpper(chi.URLParam(r, "code")))
	if err != nil {
		return err
	}
	row := practiceRow(p)
	if row.ListSizes, err = s.listSizeRows(r, p.Code); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, views.PracticeShow(views.PracticeShowPage{
		Page:     s.page(r, p.Name, views.Link{Label: "Dashboard", Href: "/"}, views.Link{Label: p.CCGName, Href: "/ccgs/" + p.CCGCode}),
		Practice: row,
	}))
	return nil
}

func practiceRow(p org.Practice) views.PracticeRow {
	row := views.PracticeRow{
		Code: p.Code, Name: p.Name, Postcode: p.Postcode, PCN: p.PCNName, Status: p.StatusName(),
		CCGCode: p.CCGCode, CCGName: p.CCGName, ListSize: "Not known",
		OpenDate: longDate(p.OpenDate), CloseDate: longDate(p.CloseDate),
	}
	if p.OpenDate == nil {
		row.OpenDate = "Not known"
	}
	if p.ListSize != nil {
		row.ListSize = views.Number(*p.ListSize)
		if p.ListSizeDate != nil {
			row.ListSize += " (" + p.ListSizeDate.Format("January 2006") + ")"
		}
	}
	return row
}

// longDate prints a date as the NHS style guide asks: 1 April 1974.
func longDate(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format("2 January 2006")
}

// pager turns a page of results into what the pagination component shows.
func pager[T any](res paging.Result[T], path string, query url.Values) views.Pager {
	for k, v := range query {
		if len(v) == 0 || v[0] == "" {
			delete(query, k)
		}
	}
	return views.Pager{Page: res.Page.Number, Pages: res.Pages(), First: res.First(), Last: res.Last(), Total: res.Total, Query: query, Path: path}
}

// ccgOptions are the CCGs the user may see, as the choices of a select
// whose first, empty choice says first.
func (s *Server) ccgOptions(r *http.Request, first string) ([]views.Option, error) {
	names, err := org.CCGNames(r.Context(), s.pool, currentUser(r).Scope())
	if err != nil {
		return nil, err
	}
	opts := make([]views.Option, 0, len(names)+1)
	opts = append(opts, views.Option{Value: "", Label: first})
	for _, c := range names {
		opts = append(opts, views.Option{Value: c.Code, Label: c.Name + " (" + c.Code + ")"})
	}
	return opts, nil
}
