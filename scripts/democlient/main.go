// Command democlient drives `mnemo serve` through a real MCP client
// (mark3labs/mcp-go's stdio client) for `make demo`: it lists the tools,
// remembers a few facts, and recalls them by meaning.
//
//	go run ./scripts/democlient /path/to/mnemo
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: democlient PATH-TO-MNEMO-BINARY")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(bin string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	start := time.Now()
	c, err := client.NewStdioMCPClient(bin, os.Environ(), "serve")
	if err != nil {
		return err
	}
	defer c.Close()
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "mnemo-demo", Version: "1"}
	res, err := c.Initialize(ctx, init)
	if err != nil {
		return fmt.Errorf("initialize: %w", err)
	}
	fmt.Printf("connected to %s %s in %v (model loads in the background)\n",
		res.ServerInfo.Name, res.ServerInfo.Version, time.Since(start).Round(time.Millisecond))

	tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	fmt.Print("tools:")
	for _, t := range tools.Tools {
		fmt.Print(" ", t.Name)
	}
	fmt.Println()

	facts := []string{
		"The doctor prescribed antibiotics for the infection.",
		"Our Go server returns JSON over standard input and output.",
		"The stock market fell sharply on Tuesday.",
		"How do I bake sourdough bread at home?",
	}
	for _, f := range facts {
		out, err := call(ctx, c, "remember", map[string]any{"content": f, "tags": []string{"demo"}})
		if err != nil {
			return err
		}
		fmt.Printf("remember %-62q → %v\n", f, out["id"])
	}
	for _, q := range []string{
		"The physician gave her medicine to treat the illness.",
		"Shares dropped steeply on Wall Street",
		"What is a good recipe for homemade bread?",
	} {
		out, err := call(ctx, c, "recall", map[string]any{"query": q, "k": 2})
		if err != nil {
			return err
		}
		fmt.Printf("\nrecall %q (model %v, semantic %v)\n", q, out["model"], out["semantic"])
		results, _ := out["results"].([]any)
		for _, r := range results {
			m, _ := r.(map[string]any)
			// The fused RRF score only orders results; the cosine says how
			// close a memory is in meaning.
			if sim, ok := m["similarity"].(float64); ok {
				fmt.Printf("  cosine %.3f  %v\n", sim, m["content"])
			} else {
				fmt.Printf("  score %.4f  %v\n", m["score"], m["content"])
			}
		}
	}
	return nil
}

// call invokes a tool and returns its structuredContent.
func call(ctx context.Context, c *client.Client, name string, args map[string]any) (map[string]any, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if res.IsError {
		return nil, fmt.Errorf("%s: tool error: %v", name, textOf(res))
	}
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("%s: structuredContent is not an object: %s", name, raw)
	}
	return out, nil
}

func textOf(res *mcp.CallToolResult) string {
	for _, c := range res.Content {
		if t, ok := c.(mcp.TextContent); ok {
			return t.Text
		}
	}
	return "(no text)"
}
