package deployment

import (
	"fmt"
	"strings"
	"text/template/parse"
)

// The environment templates are parsed by text/template/parse and evaluated
// here, over the two fields of Where, with text/template's semantics for
// everything they may use. text/template's executor is not used: it looks
// fields up with reflect.Value.MethodByName, and a program that can reach
// that call keeps every exported method of every type it links (the linker
// cannot tell which a template will call), which made the agent's binary and
// resident memory nearly twice their size.
//
// Everything is checked when the template is compiled, types included, so a
// compiled template cannot fail: what text/template would refuse only while
// running one branch (a field that does not exist, eq between a string and
// a number) is refused at start-up whatever the branch.

// kind is the static type of a value: Where (the data, dot at the top), a
// string, a bool or an int, the only values these templates can make; or
// mixed, what and/or give when their arguments differ in type (one of
// them, known only when it runs): a value whose truth can be tested and
// that can be printed, but not compared, measured, used as a format or
// have a field taken.
type kind int

const (
	kindWhere kind = iota
	kindString
	kindBool
	kindInt
	kindMixed
)

func (k kind) String() string {
	return [...]string{"deployment.Where", "string", "bool", "int", "and/or of different types"}[k]
}

// scope is what an expression sees: dot and $ (the data).
type scope struct {
	dot  any
	root Where
}

type (
	expr func(s scope) any
	emit func(b *strings.Builder, s scope)
)

// compiled is one template, ready to run.
type compiled struct{ run emit }

func (c *compiled) execute(w Where) string {
	var b strings.Builder
	c.run(&b, scope{dot: w, root: w})
	return strings.TrimSpace(b.String())
}

// compile parses text as text/template would and compiles it, or names the
// first construct it cannot take.
func compile(name, text string) (*compiled, error) {
	tree := parse.New(name)
	tree.Mode = parse.SkipFuncCheck // functions are checked below, builtins named
	set := map[string]*parse.Tree{}
	if _, err := tree.Parse(text, "", "", set); err != nil {
		return nil, fmt.Errorf("the %s template: %w", name, err)
	}
	// A {{define}} of the template's own name takes the top tree's place
	// in the set (text/template would run its body), so only the top tree
	// itself may be there.
	for _, defined := range set {
		if defined != tree {
			return nil, fmt.Errorf("the %s template: {{define}} and {{block}} are not supported", name)
		}
	}
	c := compiler{tree: tree}
	run, err := c.list(tree.Root, kindWhere)
	if err != nil {
		return nil, fmt.Errorf("the %s template: %w", name, err)
	}
	return &compiled{run: run}, nil
}

type compiler struct{ tree *parse.Tree }

// refuse is the error for node n: where it is, then why.
func (c compiler) refuse(n parse.Node, format string, args ...any) error {
	loc, _ := c.tree.ErrorContext(n)
	return fmt.Errorf("%s: %s", loc, fmt.Sprintf(format, args...))
}

func (c compiler) list(l *parse.ListNode, dot kind) (emit, error) {
	if l == nil {
		return func(*strings.Builder, scope) {}, nil
	}
	var parts []emit
	for _, n := range l.Nodes {
		e, err := c.node(n, dot)
		if err != nil {
			return nil, err
		}
		if e != nil {
			parts = append(parts, e)
		}
	}
	return func(b *strings.Builder, s scope) {
		for _, e := range parts {
			e(b, s)
		}
	}, nil
}

func (c compiler) node(n parse.Node, dot kind) (emit, error) {
	switch n := n.(type) {
	case *parse.TextNode:
		text := string(n.Text)
		return func(b *strings.Builder, _ scope) { b.WriteString(text) }, nil
	case *parse.CommentNode:
		return nil, nil
	case *parse.ActionNode:
		value, _, err := c.pipe(n.Pipe, dot)
		if err != nil {
			return nil, err
		}
		// text/template prints a value with fmt.Fprint, as here.
		return func(b *strings.Builder, s scope) { fmt.Fprint(b, value(s)) }, nil
	case *parse.IfNode:
		return c.branch(n.Pipe, n.List, n.ElseList, dot, false)
	case *parse.WithNode:
		return c.branch(n.Pipe, n.List, n.ElseList, dot, true)
	case *parse.RangeNode:
		return nil, c.refuse(n, "{{range}} is not supported")
	case *parse.TemplateNode:
		return nil, c.refuse(n, "{{template}} is not supported")
	}
	return nil, c.refuse(n, "%s is not supported", n)
}

// branch is {{if}} (dot unchanged) or {{with}} (dot the pipeline's value in
// the first list); an {{else if}} or {{else with}} is a branch in the else
// list, as the parser gives it.
func (c compiler) branch(pipe *parse.PipeNode, list, elseList *parse.ListNode, dot kind, with bool) (emit, error) {
	cond, k, err := c.pipe(pipe, dot)
	if err != nil {
		return nil, err
	}
	inner := dot
	if with {
		inner = k
	}
	then, err := c.list(list, inner)
	if err != nil {
		return nil, err
	}
	otherwise, err := c.list(elseList, dot)
	if err != nil {
		return nil, err
	}
	return func(b *strings.Builder, s scope) {
		v := cond(s)
		if !truth(v) {
			otherwise(b, s)
			return
		}
		if with {
			s.dot = v
		}
		then(b, s)
	}, nil
}

func (c compiler) pipe(p *parse.PipeNode, dot kind) (expr, kind, error) {
	if len(p.Decl) > 0 {
		return nil, 0, c.refuse(p, "variables (%s) are not supported", p.Decl[0])
	}
	var (
		value expr
		k     kind
	)
	for i, cmd := range p.Cmds {
		var last *typed
		if i > 0 {
			last = &typed{value, k}
		}
		var err error
		if value, k, err = c.command(cmd, dot, last); err != nil {
			return nil, 0, err
		}
	}
	return value, k, nil
}

// typed is an argument: its value and its type.
type typed struct {
	value expr
	kind  kind
}

// command is one command of a pipeline; last, when set, is the value of the
// command before it, given as the final argument.
func (c compiler) command(cmd *parse.CommandNode, dot kind, last *typed) (expr, kind, error) {
	if id, ok := cmd.Args[0].(*parse.IdentifierNode); ok {
		return c.call(id, cmd.Args[1:], dot, last)
	}
	if len(cmd.Args) > 1 || last != nil {
		return nil, 0, c.refuse(cmd, "can't give argument to non-function %s", cmd.Args[0])
	}
	return c.operand(cmd.Args[0], dot)
}

func (c compiler) operand(n parse.Node, dot kind) (expr, kind, error) {
	switch n := n.(type) {
	case *parse.DotNode:
		return func(s scope) any { return s.dot }, dot, nil
	case *parse.FieldNode:
		return c.field(n, dot, n.Ident, func(s scope) any { return s.dot })
	case *parse.VariableNode:
		if n.Ident[0] != "$" {
			return nil, 0, c.refuse(n, "variables (%s) are not supported", n.Ident[0])
		}
		root := func(s scope) any { return s.root }
		if len(n.Ident) == 1 {
			return root, kindWhere, nil
		}
		return c.field(n, kindWhere, n.Ident[1:], root)
	case *parse.StringNode:
		text := n.Text
		return func(scope) any { return text }, kindString, nil
	case *parse.BoolNode:
		b := n.True
		return func(scope) any { return b }, kindBool, nil
	case *parse.NumberNode:
		i, err := c.integer(n)
		return func(scope) any { return i }, kindInt, err
	case *parse.PipeNode:
		return c.pipe(n, dot)
	case *parse.IdentifierNode:
		return c.call(n, nil, dot, nil)
	case *parse.NilNode:
		return nil, 0, c.refuse(n, "nil is not supported")
	}
	return nil, 0, c.refuse(n, "%s is not supported", n)
}

// field is .Cluster or .Namespace of a Where.
func (c compiler) field(n parse.Node, of kind, idents []string, from expr) (expr, kind, error) {
	if of != kindWhere {
		return nil, 0, c.refuse(n, "can't evaluate field %s in type %s", idents[0], of)
	}
	var get func(Where) string
	switch idents[0] {
	case "Cluster":
		get = func(w Where) string { return w.Cluster }
	case "Namespace":
		get = func(w Where) string { return w.Namespace }
	default:
		return nil, 0, c.refuse(n, "there is no field .%s: the fields are .Cluster and .Namespace", idents[0])
	}
	if len(idents) > 1 {
		return nil, 0, c.refuse(n, "can't evaluate field %s in type string", idents[1])
	}
	return func(s scope) any { return get(from(s).(Where)) }, kindString, nil
}

// integer is a number constant as text/template takes one given to a
// builtin: an int, or a float or complex number, which none of the
// functions here can use.
func (c compiler) integer(n *parse.NumberNode) (int, error) {
	hexInt := len(n.Text) > 2 && n.Text[0] == '0' && (n.Text[1] == 'x' || n.Text[1] == 'X') && !strings.ContainsAny(n.Text, "pP")
	runeInt := n.Text[0] == '\''
	float := n.IsFloat && !hexInt && !runeInt && strings.ContainsAny(n.Text, ".eEpP")
	if n.IsComplex || float || !n.IsInt {
		return 0, c.refuse(n, "the number %s is not supported: only integers are", n.Text)
	}
	i := int(n.Int64)
	if int64(i) != n.Int64 {
		return 0, c.refuse(n, "%s overflows int", n.Text)
	}
	return i, nil
}

// truth is text/template's: the zero value of a type is false; a struct
// (Where) is always true.
func truth(v any) bool {
	switch v := v.(type) {
	case string:
		return v != ""
	case bool:
		return v
	case int:
		return v != 0
	}
	return true
}
