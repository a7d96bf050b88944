package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/sofasim/sofasim/checkers"
)

// JUnit XML, as Jenkins, GitLab and GitHub test reporters read it: one
// testsuite per sweep, one testcase per seed. A failing seed is a
// <failure> with the explanation, the report and the replay command; a
// seed without a verdict (a check out of time, a crashed or hung worker)
// is an <error>; seeds planned but never run (an interrupted sweep or a
// missing shard) are not listed, and the suite's properties say so.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes a sweep as JUnit XML. Paths in s should be as the
// reader of the XML will see them (see [Sweep.Rebase]).
func WriteJUnit(w io.Writer, s *Sweep) error {
	suite := junitSuite{Name: s.Scenario, Time: seconds(s.WallSeconds)}
	props := []junitProperty{
		{"seeds", s.Range.String()},
		{"shard", s.Shard.String()},
		{"planned", fmt.Sprint(s.Planned)},
		{"bugs", strings.Join(s.Bugs, " ")},
		{"check_time_limit", s.CheckTimeLimit.String()},
	}
	if s.Command != "" {
		props = append(props, junitProperty{"command", s.Command})
	}
	if s.Build != nil {
		props = append(props, junitProperty{"build", s.Build.String()})
	}
	for _, k := range sortedKeys(s.Params) {
		props = append(props, junitProperty{"param." + k, s.Params[k]})
	}
	if s.Stopped != "" {
		props = append(props, junitProperty{"stopped", s.Stopped})
	}
	if len(s.MissingShards) > 0 {
		props = append(props, junitProperty{"missing_shards", fmt.Sprint(s.MissingShards)})
	}
	suite.Properties = props
	for _, r := range s.Results {
		c := junitCase{Classname: "sofasim." + s.Scenario, Name: fmt.Sprintf("seed %d", r.Seed), Time: seconds(r.WallSeconds)}
		var body strings.Builder
		for _, f := range r.Failures {
			body.WriteString(f + "\n")
		}
		if r.Error != "" {
			body.WriteString(r.Error + "\n")
		}
		if r.Report != "" {
			body.WriteString("\nreport: " + r.Report + "\n")
		}
		if r.Replay != "" {
			body.WriteString("replay: " + r.Replay + "\n")
		}
		switch r.Verdict {
		case checkers.Pass:
		case checkers.Fail:
			kind := "finding"
			if len(r.Failures) > 0 {
				kind, _, _ = strings.Cut(r.Failures[0], ":")
			}
			c.Failure = &junitProblem{Message: firstLine(r.Failures, r.Error), Type: kind, Text: body.String()}
			suite.Failures++
		default:
			kind, msg := "unknown", firstLine(r.Failures, r.Error)
			switch {
			case r.Cause == CauseOutOfTime:
				kind, msg = CauseOutOfTime, "out of time, not a finding: "+msg
			case r.Error != "":
				kind = "harness"
			}
			c.Error = &junitProblem{Message: msg, Type: kind, Text: body.String()}
			suite.Errors++
		}
		suite.Cases = append(suite.Cases, c)
		suite.Tests++
	}
	doc := junitSuites{Name: "sofasim", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func firstLine(failures []string, errText string) string {
	s := errText
	if len(failures) > 0 {
		s = failures[0]
	}
	if s == "" {
		s = "verdict unknown"
	}
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "..."
	}
	return s
}

func seconds(s float64) string { return fmt.Sprintf("%.3f", s) }
