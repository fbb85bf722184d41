"""The `mseed` command: one subcommand per DVC stage (dvc.yaml calls these) plus tools.

Every stage module has one shape: a pure `run(params, inputs, outputs) -> metrics` (params: the dict of its
params.yaml entries, `stages.params.stage_params`; inputs / outputs: the paths of dvc.yaml) that clears
its outputs at the start (`io.clear_outputs`) and writes its metrics at the end (`io.write_metrics`), and a
thin click command `cli` that reads the params and calls it. Subcommands are imported lazily so that
`--help` is fast and a stage only imports what it needs. `review` and `validate` are tools, not stages.
"""
from __future__ import annotations

import importlib
import sys

import click

# name -> (module, attribute, one-line help). Each attribute is a click.Command.
COMMANDS = {
    "base-model": ("stages.base_model", "cli", "Materialize models/base (HF safetensors) from params base_model."),
    "collect": ("stages.collect", "cli", "Load safety and general sources into data/collect/."),
    "label": ("stages.label", "cli", "Multi-intent labeling of safety prompts (paper 3.4)."),
    "augment": ("stages.augment", "cli", "Diversity control: dedup, caps, prompt enhancement (paper 3.5)."),
    "regenerate": ("stages.regenerate", "cli", "Safety model writes chain-of-thought safe responses (paper 3.6)."),
    "score": ("stages.score", "cli", "Safety reward model features: perplexity, response and instruction safety (3.7)."),
    "select": ("stages.select", "cli", "Feature-based selection in DuckDB; LLaMA-Factory datasets (3.8)."),
    "train": ("stages.train", "cli", "Fine-tune with LLaMA-Factory (SFT/DPO/KTO) into models/sft."),
    "build-newsafety": ("stages.build_newsafety", "cli", "Build the 14-category New-Safety evaluation set."),
    "eval-safetybench": ("stages.eval_safetybench", "cli", "SafetyBench multiple-choice evaluation of one model."),
    "eval-newsafety": ("stages.eval_newsafety", "cli", "New-Safety 14-category generation + judge evaluation."),
    "eval-responsibility": ("stages.eval_responsibility", "cli", "CValues responsibility multiple-choice evaluation."),
    "eval-general": ("stages.eval_general", "cli", "General capability: gsm8k, mmlu, cmmlu, ceval, HumanEval."),
    "eval-overrefusal": ("stages.eval_overrefusal", "cli", "Over-refusal on benign prompts that look sensitive."),
    "judge-calibration": ("stages.judge_calibration", "cli", "Eval judge accuracy and Cohen's kappa on the calibration set."),
    "report": ("stages.report", "cli", "Base vs SFT report: metrics/report.json, report.md and figures."),
    "review": ("stages.review", "cli", "Label 'uncertain' judge verdicts by hand in the terminal."),
    "validate": ("stages.schemas", "cli", "Validate a dataset file against its Great Expectations suite."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def format_commands(self, ctx, formatter):
        # List from the table so that `mseed --help` imports no stage module.
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][2]) for name in sorted(COMMANDS)])

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr, short = COMMANDS[name]
        cmd = getattr(importlib.import_module(module), attr)
        cmd.short_help = short
        return cmd


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def group():
    """mseed-pipeline stages. DVC runs these (see dvc.yaml); each reads its own section of params.yaml.

    Run one by hand with e.g. `mseed label --help`. Exit status 2 means bad input or a failed
    schema check; the message names the file, line/record and field.
    """


def main(argv=None):
    from stages.io import InputError, StageError

    try:
        group.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except (InputError, StageError) as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    except UnicodeError as e:  # text that cannot be written (e.g. a lone surrogate that slipped through)
        click.echo(f"error: cannot encode text as UTF-8 ({getattr(e, 'reason', e)}); find and remove lone "
                   f"surrogate escapes (\\ud800-\\udfff) in the stage's inputs", err=True)
        sys.exit(2)
    except Exception as e:  # matched by name: no GE / httpx import here
        name = type(e).__name__
        if name == "ValidationError":  # schema failures carry their own clear message
            click.echo(f"error: {e}", err=True)
            sys.exit(2)
        if name == "LLMAuthError":
            role = getattr(e, "role", None) or "<role>"
            click.echo(f"error: params.yaml: field 'roles.{role}.api_key_env': {e}; export a valid API key in "
                       f"that variable (or fix roles.{role}.base_url)", err=True)
            sys.exit(2)
        raise


if __name__ == "__main__":
    main()
