"""One module per LLM task: its template file, the fields it fills and fences, its output parser and
its rules answer (what the deterministic `rules` backend answers for it).

    task = ScoreResponse("prompts/score_response.txt")
    convs = [task.render(prompt, out1, out2) for ...]
    outs = llm.chat(convs, task=task)            # the task object travels with the request
    values, err = task.parse(outs[0][0].text)

A stage builds its task objects (template paths from params) and passes them to `LLM.chat`; backends
only print `str(task)` (its name) and the rules backend calls `task.rules_answer(values, user)` with the
untrusted values the render fenced. Base class: stages/tasks/base.py.
"""
