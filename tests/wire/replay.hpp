// Test support for the wire layer: feeds an input to a Framer split in every
// way the tests need (whole, two parts at every offset, one byte at a time) and
// records what came out, so that the results can be compared with each other.
#pragma once

#include <imapkeep/wire/framer.hpp>
#include <imapkeep/wire/parser.hpp>

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace imapkeep::wire::test {

struct RecordingSink : LiteralSink {
    std::string data;
    std::vector<std::size_t> chunk_sizes;
    int finish_calls = 0;
    bool write_after_finish = false;
    void write(std::string_view chunk) override {
        if (finish_calls > 0) write_after_finish = true;
        data.append(chunk);
        chunk_sizes.push_back(chunk.size());
    }
    void finish() override { ++finish_calls; }
};

// Decides which literals go to a sink (by response text so far and size).
using SinkPolicy = std::function<bool(std::string_view, std::uint64_t)>;

struct Replay {
    // Frames (drained after each feed) and errors, in order, then "buffered N".
    std::vector<std::string> events;
    // Sink chooser calls, in order. Kept apart from `events` because when they
    // happen relative to the draining of frames depends on how input is split.
    std::vector<std::string> choices;
    std::vector<Frame> frames;
    std::deque<RecordingSink> sinks;  // one per literal sent to a sink

    // Chooser calls, then events: what the tests compare.
    std::vector<std::string> log() const {
        std::vector<std::string> all = choices;
        all.insert(all.end(), events.begin(), events.end());
        return all;
    }
};

inline const char* kind_name(FrameError::Kind kind) {
    switch (kind) {
    case FrameError::Kind::LineTooLong: return "LineTooLong";
    case FrameError::Kind::BareLf: return "BareLf";
    case FrameError::Kind::LiteralTooLarge: return "LiteralTooLarge";
    case FrameError::Kind::ResponseTooLarge: return "ResponseTooLarge";
    }
    return "?";
}

inline std::string describe(const Frame& frame) {
    std::string out = "frame " + frame.flatten();
    for (const auto& lit : frame.literals) {
        out += " [" + std::to_string(lit.size) + (lit.binary ? " binary" : "") +
               (lit.sink ? " sink" : "") + "]";
    }
    return out;
}

// Feeds `parts` in order. On a non-fatal error it calls resync() and goes on,
// as a client that survives LineTooLong would; a fatal error ends the replay.
inline Replay replay(const std::vector<std::string_view>& parts, const Limits& limits = {},
                     const SinkPolicy& policy = {}) {
    auto result = std::make_unique<Replay>();
    Replay& r = *result;
    Framer framer(limits);
    if (policy) {
        framer.set_sink_chooser([&r, &policy](std::string_view text, std::uint64_t size) -> LiteralSink* {
            r.choices.push_back("choose " + std::string(text) + " " + std::to_string(size));
            if (!policy(text, size)) return nullptr;
            return &r.sinks.emplace_back();
        });
    }
    auto drain = [&] {
        while (auto frame = framer.next()) {
            r.events.push_back(describe(*frame));
            r.frames.push_back(std::move(*frame));
        }
    };
    for (std::string_view part : parts) {
        auto error = framer.feed(part);
        drain();
        while (error) {
            r.events.push_back(std::string("error ") + kind_name(error->kind) + "@" +
                               std::to_string(error->offset) + (error->fatal ? " fatal" : ""));
            if (error->fatal) return std::move(*result);
            framer.resync();
            drain();
            error = framer.feed("");
            drain();
        }
    }
    r.events.push_back("buffered " + std::to_string(framer.buffered()));
    return std::move(*result);
}

// Every way of splitting `input` the tests replay: whole, in two parts at every
// offset, and one byte at a time. The first entry is the whole input.
inline std::vector<std::vector<std::string_view>> all_splits(std::string_view input) {
    std::vector<std::vector<std::string_view>> splits;
    splits.push_back({input});
    for (std::size_t k = 0; k <= input.size(); ++k) splits.push_back({input.substr(0, k), input.substr(k)});
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
    splits.push_back(std::move(bytes));
    return splits;
}

inline std::string describe_split(const std::vector<std::string_view>& split) {
    if (split.size() == 1) return "whole";
    if (split.size() == 2) return "split at " + std::to_string(split[0].size());
    return "one byte at a time";
}

// A compact, unambiguous rendering of a parsed response for table tests:
//   "* 12 FETCH (FLAGS (\Seen) UID #5 BODY[] {0:"hello"})"
//   "* 2 FETCH (`BODY[HEADER.FIELDS (FROM)]` "x")"
//   "a1 OK [UIDVALIDITY|3857529045|#3857529045] "SELECT completed""
// Numbers are "#n", strings are quoted, literals "{index:"data"}" or
// "{index:streamed}", lists "( ... )".
inline std::string escape(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (c == '\r') {
            out += "\\r";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out + "\"";
}

inline std::string dump(const Node& node) {
    switch (node.kind) {
    // An atom holding SP (a section like "BODY[HEADER.FIELDS (A B)]") is shown
    // in backquotes so that it cannot be mistaken for several atoms.
    case Node::Kind::Atom:
        return node.text.find(' ') == std::string::npos ? node.text : "`" + node.text + "`";
    case Node::Kind::Number: return "#" + std::to_string(node.number);
    case Node::Kind::Nil: return "NIL";
    case Node::Kind::String:
        if (node.literal)
            return "{" + std::to_string(node.literal_index) + ":" +
                   (node.streamed ? std::string("streamed") : escape(node.text)) + "}";
        return escape(node.text);
    case Node::Kind::List: {
        std::string out = "(";
        for (std::size_t i = 0; i < node.items.size(); ++i) out += (i ? " " : "") + dump(node.items[i]);
        return out + ")";
    }
    }
    return "?";
}

inline std::string dump_nodes(const std::vector<Node>& nodes) {
    std::string out;
    for (std::size_t i = 0; i < nodes.size(); ++i) out += (i ? " " : "") + dump(nodes[i]);
    return out;
}

inline std::string dump(const Response& r) {
    std::string out;
    switch (r.kind) {
    case Response::Kind::Tagged: out = r.tag + " "; break;
    case Response::Kind::Untagged: out = "* "; break;
    case Response::Kind::Continuation: out = "+"; break;
    }
    if (r.number) out += std::to_string(*r.number) + " ";
    out += r.type;
    if (r.is_status() || r.kind == Response::Kind::Continuation) {
        if (r.code) out += " [" + r.code->name + "|" + r.code->raw + "|" + dump_nodes(r.code->args) + "]";
        out += " " + escape(r.text);
    } else if (!r.args.empty()) {
        out += " " + dump_nodes(r.args);
    }
    return out;
}

inline std::string dump(const std::variant<Response, ParseError>& result) {
    if (const auto* error = std::get_if<ParseError>(&result)) return "ERROR " + error->message;
    return dump(std::get<Response>(result));
}

}  // namespace imapkeep::wire::test
