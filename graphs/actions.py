"""The controller's mechanics, shared by the LangGraph nodes and the RL environment.

Each function takes the episode state and the run-time context and returns a state *update*:

    observe(state, ctx)          -> Observation
    apply_action(state, ctx, a)  -> update         retrieve | extend | refine | answer | summarize;
                                                   after an expansion, a cheap draft measures the
                                                   reader's confidence when the policy uses it
    action_mask(state, ctx)      -> {action: valid}

``apply_action(..., write=...)`` streams what the answer and summary steps produce as they go, as
dicts (the graph passes LangGraph's stream writer, so they arrive with ``stream_mode="custom"``):

    {"kind": "token", "run_id": ..., "text": "..."}          a piece of the answer, as generated
    {"kind": "part", "run_id": ..., "done": i, "parts": n}   a summary's parts: i of n summarized
    {"kind": "step", "run_id": ..., "step": {...}}          a finished step (``Step.to_dict()``), after
                                                             the pieces it streamed

Actions only ever append to the reader's context (see ``adactx.reader``), so a T-step episode costs
about one read of its final context. Every action appends one ``Step`` to ``state["steps"]``, charged
with all the reader computed since the previous step: the first step also pays for the prompt head
(system prompt, instructions, question) that ``observe`` computed when it opened the reader session.
"""

from __future__ import annotations

import inspect
import re
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
from adactx.graphs.context import ControllerContext
from adactx.graphs.state import ACTIONS, Action, ControllerState, Observation, Piece, question_of

from adactx.types import Step, Usage

SUMMARY_TASKS = ("summary",)
PART_INSTRUCTION = "Summarize this part of the document."
Writer = Callable[[dict[str, Any]], None]  # receives the stream events above (LangGraph's StreamWriter)


# --- derived values (recomputed on resume, never persisted) ---------------------------------------
def ensure_session(state: ControllerState, ctx: ControllerContext):
    """The run's live reader session; after a resume it is rebuilt by re-reading the pieces."""
    run = ctx.run(state["run_id"])
    if run.session is None:
        run.session = ctx.reader.session(question_of(state), state["task"])
        for piece in state.get("pieces", []):
            run.session.append(_piece_text(ctx, piece))
        # a fresh run's head (system prompt, instructions, question) is charged to its first step;
        # a resumed run already paid for the context it re-reads here
        run.charged = run.session.usage if state.get("steps") else Usage()
    return run.session


def charge_usage(state: ControllerState, ctx: ControllerContext) -> Usage:
    """The reader usage of the run's session not yet charged to a step (the head, for the first)."""
    run = ctx.run(state["run_id"])
    if run.session is None:
        return Usage()
    spent = run.session.usage - run.charged
    run.charged = run.session.usage
    return spent


def retrieval_scores(state: ControllerState, ctx: ControllerContext) -> np.ndarray:
    run = ctx.run(state["run_id"])
    if run.scores is None:
        run.scores = np.asarray(ctx.index.scores(question_of(state)), dtype=np.float32)
    return run.scores


def read_chunks(state: ControllerState) -> set[int]:
    """Chunks whose text (or a sentence of it) is already in the context."""
    return {p["chunk_id"] for p in state.get("pieces", [])}


def addable_tokens(state: ControllerState, ctx: ControllerContext) -> int:
    """Document tokens that may still be added: the budget, and the reader's window."""
    budget_left = ctx.settings.budget - state.get("context_tokens", 0)
    session = ensure_session(state, ctx)
    window_left = session.room(answer_tokens(state, ctx) + 8)
    return max(min(budget_left, window_left), 0)


def answer_tokens(state: ControllerState, ctx: ControllerContext) -> int:
    """The most tokens the final answer may take (summaries are longer than QA answers)."""
    summary_like = state["task"] in ("query_summary", "summary")
    return ctx.settings.summary_tokens if summary_like else ctx.settings.answer_tokens


def _piece_text(ctx: ControllerContext, piece: Piece) -> str:
    return "\n" + ctx.tree.document.text[piece["start"] : piece["end"]]


def _unread_by_score(state: ControllerState, ctx: ControllerContext) -> list[int]:
    scores = retrieval_scores(state, ctx)
    done = read_chunks(state)
    return [int(i) for i in np.argsort(-scores, kind="stable") if int(i) not in done]


# --- mask and observation ------------------------------------------------------------------------
def action_mask(state: ControllerState, ctx: ControllerContext) -> dict[str, bool]:
    summary = state["task"] in SUMMARY_TASKS
    left = addable_tokens(state, ctx) if not summary else 0  # a summary never reads into the question's session
    unread = [c for c in ctx.tree.chunks if c.chunk_id not in read_chunks(state)]
    fits = any(c.n_tokens + 2 <= left for c in unread)
    mask = {
        "retrieve": fits and not summary,
        "extend": fits and not summary,
        "refine": bool(unread) and left > 0 and not summary,
        "answer": not summary,
        "summarize": summary,
    }
    if len(state.get("steps", [])) >= ctx.settings.max_steps:
        mask.update(retrieve=False, extend=False, refine=False)
    return mask


def observe(state: ControllerState, ctx: ControllerContext) -> Observation:
    """The policy's view of the state (cheap: the draft was made by the step that grew the context)."""
    context_tokens = state.get("context_tokens", 0)
    unread = _unread_by_score(state, ctx) if state["task"] not in SUMMARY_TASKS else []
    scores = retrieval_scores(state, ctx)
    top = [float(scores[i]) for i in unread[:3]]
    conf, prev = state.get("confidence"), state.get("prev_confidence")
    return Observation(
        task=state["task"],
        doc_tokens=ctx.tree.total_tokens,
        n_chunks=len(ctx.tree.chunks),
        context_tokens=context_tokens,
        budget=ctx.settings.budget,
        steps_taken=len(state.get("steps", [])),
        max_steps=ctx.settings.max_steps,
        top_scores=top,
        margin=(top[0] - top[1]) if len(top) > 1 else 0.0,
        coverage=context_tokens / max(ctx.tree.total_tokens, 1),
        confidence=conf,
        confidence_delta=(conf - prev) if conf is not None and prev is not None else None,
        mask=action_mask(state, ctx),
        question=question_of(state),
        candidates=[(" ".join(ctx.tree.chunks[i].text.split()[:8]), float(scores[i])) for i in unread[:3]],
        read_chunks=sorted(read_chunks(state)),
        draft=state.get("draft", ""),
    )


# --- actions -------------------------------------------------------------------------------------
def apply_action(state: ControllerState, ctx: ControllerContext, action: Action, write: Writer | None = None) -> dict:
    handler = {
        "retrieve": _retrieve,
        "extend": _extend,
        "refine": _refine,
        "answer": partial(_answer, write=write),
        "summarize": partial(_summarize, write=write),
    }[action.name]
    t0 = time.perf_counter()
    update = handler(state, ctx, action)
    if update.get("_added") and getattr(ctx.policy, "needs_draft", False):
        # reader feedback: a cheap draft over the grown context; its tokens count like any other
        gen = ensure_session(state, ctx).draft(ctx.settings.draft_tokens)
        update.update(
            prev_confidence=state.get("confidence"),
            confidence=gen.mean_logprob,
            draft=gen.text,
            _confidence=gen.mean_logprob,
            _draft=gen.text,
        )
    step = Step(
        index=len(state.get("steps", [])),
        action=action.name,
        chunks_added=sorted({p["chunk_id"] for p in update.pop("_added", [])}),
        context_tokens=update.get("context_tokens", state.get("context_tokens", 0)),
        usage=charge_usage(state, ctx) + update.pop("_extra_usage", Usage()),
        latency_s=time.perf_counter() - t0,
        confidence=update.pop("_confidence", None),
        draft=update.pop("_draft", ""),
        note=update.pop("_note", ""),
    )
    update["steps"] = [*state.get("steps", []), step.to_dict()]
    if write is not None:  # in the stream's order: after this step's answer pieces, never before them
        write({"kind": "step", "run_id": state.get("run_id", ""), "step": step.to_dict()})
    if ctx.on_step:
        ctx.on_step(step)
    return update


def _add_pieces(state: ControllerState, ctx: ControllerContext, pieces: list[Piece]) -> dict:
    """Append pieces in order while they fit; returns the state update with ``_added``."""
    session = ensure_session(state, ctx)
    left = addable_tokens(state, ctx)
    added: list[Piece] = []
    for piece in pieces:
        if piece["tokens"] + 2 > left:
            continue
        n = session.append(_piece_text(ctx, piece))
        added.append({**piece, "tokens": n})
        left -= n
    return {
        "pieces": [*state.get("pieces", []), *added],
        "context_tokens": state.get("context_tokens", 0) + sum(p["tokens"] for p in added),
        "_added": added,
    }


def _chunk_piece(ctx: ControllerContext, chunk_id: int) -> Piece:
    c = ctx.tree.chunks[chunk_id]
    return Piece(chunk_id=c.chunk_id, start=c.start, end=c.end, tokens=c.n_tokens, level="chunk")


def _retrieve(state: ControllerState, ctx: ControllerContext, action: Action) -> dict:
    """The ``k`` best unread chunks that still fit (a chunk too large for the room is passed over)."""
    k = action.amount or ctx.settings.retrieve_k
    left, chosen = addable_tokens(state, ctx), []
    for cid in _unread_by_score(state, ctx):
        n = ctx.tree.chunks[cid].n_tokens + 2
        if n <= left:
            chosen.append(cid)
            left -= n
        if len(chosen) == k:
            break
    return _add_pieces(state, ctx, [_chunk_piece(ctx, i) for i in chosen])


def _extend(state: ControllerState, ctx: ControllerContext, action: Action) -> dict:
    """Widen the window: the unread neighbours of what is read, or the next prefix chunks."""
    want = action.amount or ctx.settings.extend_tokens
    done = read_chunks(state)
    if done:
        order = []
        for cid in sorted(done):
            order += [n for n in ctx.tree.neighbours(cid) if n not in done and n not in order]
        order += [c.chunk_id for c in ctx.tree.chunks if c.chunk_id not in done and c.chunk_id not in order]
    else:
        order = [c.chunk_id for c in ctx.tree.chunks]
    chosen, total = [], 0
    for cid in order:
        n = ctx.tree.chunks[cid].n_tokens
        if total + n > want:
            break
        chosen.append(cid)
        total += n
    if action.amount is None:
        chosen = chosen or order[:1]  # the default extension always makes progress
    chosen.sort()  # document order inside one extension reads naturally
    return _add_pieces(state, ctx, [_chunk_piece(ctx, i) for i in chosen])


def _refine(state: ControllerState, ctx: ControllerContext, action: Action) -> dict:
    """Go finer: from the next-best unread chunks keep only their most relevant sentences."""
    n_chunks = action.amount or ctx.settings.refine_chunks
    candidates = []
    for cid in _unread_by_score(state, ctx)[:n_chunks]:
        candidates += ctx.tree.sentences(cid)
    if not candidates:
        return {"_added": []}
    scores = np.asarray(ctx.index.rank_sentences(question_of(state), [s.text for s in candidates]))
    best = [candidates[i] for i in np.argsort(-scores, kind="stable")[: ctx.settings.refine_sentences]]
    best.sort(key=lambda s: s.start)
    pieces = [
        Piece(chunk_id=s.parent, start=s.start, end=s.end, tokens=s.n_tokens, level="sentence") for s in best
    ]
    return _add_pieces(state, ctx, pieces)


def _answer(state: ControllerState, ctx: ControllerContext, action: Action, write: Writer | None = None) -> dict:
    on_token = _token_writer(write, state["run_id"])
    gen = answer_streaming(ensure_session(state, ctx), answer_tokens(state, ctx), on_token)
    return {"answer": gen.text, "_confidence": gen.mean_logprob, "_draft": gen.text}


def _token_writer(write: Writer | None, run_id: str) -> Callable[[str], None] | None:
    if write is None:
        return None
    return lambda text: write({"kind": "token", "run_id": run_id, "text": text})


def answer_streaming(session, max_new_tokens: int, on_token: Callable[[str], None] | None):
    """``session.answer``, its text passed to ``on_token`` as generated where the session can stream
    (``HFReaderSession``), else in one piece when it is done (the HTTP reader, the memo, an app's own)."""
    if on_token is None:
        return session.answer(max_new_tokens)
    if "on_token" in inspect.signature(session.answer).parameters:
        return session.answer(max_new_tokens, on_token=on_token)
    gen = session.answer(max_new_tokens)
    if gen.text:
        on_token(gen.text)
    return gen


def _summary_parts(ctx: ControllerContext) -> list[list]:
    """The document's chunks in consecutive parts of at most ``part_tokens`` tokens each."""
    parts, current, size = [], [], 0
    for c in ctx.tree.chunks:
        if current and size + c.n_tokens > ctx.settings.part_tokens:
            parts.append(current)
            current, size = [], 0
        current.append(c)
        size += c.n_tokens
    return parts + ([current] if current else [])


def _summarize(state: ControllerState, ctx: ControllerContext, action: Action, write: Writer | None = None) -> dict:
    """Hierarchical summary: summarize parts of the document, then summarize the summaries."""
    s, run_id = ctx.settings, state["run_id"]
    parts = _summary_parts(ctx)
    total, read, summaries, pieces = Usage(), 0, [], []
    for i, part in enumerate(parts):
        if write:
            write({"kind": "part", "run_id": run_id, "done": i, "parts": len(parts)})
        if read + sum(c.n_tokens for c in part) > s.budget:
            break
        session = ctx.reader.session(PART_INSTRUCTION, "summary")
        for c in part:
            if c.n_tokens + 2 > session.room(s.summary_tokens + 8):
                break
            session.append("\n" + c.text)
            read += c.n_tokens  # document tokens (the chunk's own count: a separator is no document text)
            pieces.append(_chunk_piece(ctx, c.chunk_id))
        summaries.append(without_scaffolding(session.answer(s.summary_tokens).text))
        total = total + session.usage
    if write:
        write({"kind": "part", "run_id": run_id, "done": len(summaries), "parts": len(parts)})
    gen, final_usage = _combine(state, ctx, summaries, _token_writer(write, run_id))
    return {
        "answer": gen.text,
        "pieces": [*state.get("pieces", []), *pieces],
        "context_tokens": read,
        "_added": pieces,
        "_extra_usage": total + final_usage,
        "_confidence": gen.mean_logprob,
        "_note": f"{len(summaries)} of {len(parts)} parts summarized, then combined",
    }


def _combine(state: ControllerState, ctx: ControllerContext, summaries: list[str], on_token) -> tuple[Any, Usage]:
    """The final summary over the parts' summaries (one paragraph each, no labels the reader could echo)."""
    s = ctx.settings
    final = ctx.reader.session(question_of(state), "summary")
    for text in summaries:
        if text and ctx.reader.count_tokens("\n" + text) + 2 <= final.room(s.summary_tokens + 8):
            final.append("\n" + text)
    gen = final.answer(s.summary_tokens)
    text = without_scaffolding(gen.text, question_of(state))
    if on_token is not None and text:
        on_token(text)  # sent once it is clean: a streamed echo of the prompt could not be taken back
    return replace(gen, text=text), final.usage


_SCAFFOLD = re.compile(r"(?i)\b(?:part \d+\s*[:)]|summary\s*:)\s*")  # "Part 2:", "Part 2)", "Summary:"


def without_scaffolding(text: str, *instructions: str) -> str:
    """The reader's summary without what it echoed of the prompt: the part instruction, the user's
    instruction, "Part N:" / "Part N)" / "Summary:" labels (a plain "part 3 of" stays)."""
    for instruction in (PART_INSTRUCTION, *instructions):
        if instruction:
            text = re.sub(re.escape(instruction.strip()), "", text, flags=re.IGNORECASE)
    return _SCAFFOLD.sub("", text).strip()


def valid_or_answer(action: Action, mask: dict[str, bool], task: str) -> tuple[Action, str]:
    """Masked actions fall back to stopping; returns the action to run and a note."""
    if mask.get(action.name, False):
        return action, ""
    stop = Action("summarize" if task in SUMMARY_TASKS else "answer")
    return stop, f"{action.name} masked"


__all__ = [
    "ACTIONS", "action_mask", "addable_tokens", "answer_streaming", "apply_action", "charge_usage",
    "ensure_session", "observe", "valid_or_answer", "without_scaffolding",
]
