"""Role options are declared per backend and validated: typos and wrong types name roles.<role>.<key>."""
import pytest
import yaml

from stages.io import InputError
from stages.llm import get_llm, make_llm
from stages.llm.roles import RoleOptionError, backend_class


def write_params(tmp_path, roles):
    p = tmp_path / "params.yaml"
    p.write_text(yaml.safe_dump({"roles": roles}), encoding="utf-8")
    return p


def test_misspelled_option_names_the_key(tmp_path):
    p = write_params(tmp_path, {"labeler": {"backend": "rules", "model": "rules-v1", "temprature": 0.5}})
    with pytest.raises(InputError) as e:
        get_llm("labeler", params_path=str(p))
    msg = str(e.value)
    assert msg.startswith(str(p)) and "roles.labeler.temprature" in msg and "temperature" in msg  # allowed list


def test_misspelled_backend_option_is_an_error_before_loading(tmp_path):
    # hf would load lazily; the typo is caught at role construction, with the backend's own keys listed
    with pytest.raises(RoleOptionError, match=r"roles\.gen\.batch_sise: unknown option for backend 'hf'.*batch_size"):
        make_llm({"backend": "hf", "model": str(tmp_path), "batch_sise": 4}, name="gen")
    with pytest.raises(RoleOptionError, match=r"roles\.api\.concurency"):
        make_llm({"backend": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1", "concurency": 4},
                 name="api")


@pytest.mark.parametrize("key,value", [("batch_size", "big"), ("max_tokens", [1]), ("temperature", "hot")])
def test_wrongly_typed_option_names_the_key(tmp_path, key, value):
    with pytest.raises(RoleOptionError, match=rf"roles\.gen\.{key}: ") as e:
        make_llm({"backend": "hf", "model": str(tmp_path), key: value}, name="gen")
    assert f"(got {value!r})" in str(e.value)


def test_declared_options_are_the_init_keywords():
    hf = backend_class("hf").options_model().model_fields
    assert {"dtype", "batch_size", "device", "max_batch_tokens", "temperature", "max_tokens"} <= set(hf)
    oa = backend_class("openai").options_model().model_fields
    assert {"base_url", "api_key_env", "concurrency", "timeout"} <= set(oa) and "dtype" not in oa
    # valid options (also numbers written as strings, as YAML users do) still build the role
    llm = make_llm({"backend": "rules", "model": "rules-v1", "temperature": "0.5", "max_tokens": 8})
    assert llm.defaults.temperature == 0.5 and llm.defaults.max_tokens == 8


def test_openai_role_wrongly_typed_option_names_the_key(tmp_path):
    p = write_params(tmp_path, {"judge": {"backend": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1",
                                          "concurrency": "many"}})
    with pytest.raises(InputError) as e:
        get_llm("judge", params_path=str(p))
    assert "roles.judge.concurrency: " in str(e.value) and "(got 'many')" in str(e.value)
    # validated values reach the backend converted to the declared types
    llm = make_llm({"backend": "openai", "model": "m", "base_url": "http://127.0.0.1:9/v1", "concurrency": "4",
                    "timeout": "2.5"})
    assert llm.backend.concurrency == 4 and llm.backend.timeout == 2.5 and llm.options["concurrency"] == 4


def test_backends_declare_their_contract():
    from stages.llm.base import Backend
    from stages.llm.openai_backend import OpenAIBackend

    with pytest.raises(TypeError):  # abstract: generate is required
        Backend("m")
    with pytest.raises(TypeError, match="concurency"):  # no **options: a typo fails outside roles too
        OpenAIBackend("m", base_url="http://127.0.0.1:9/v1", concurency=4)
    caps = {n: (c.cacheable, c.local, c.torch_model, c.has_loglik())
            for n, c in ((n, backend_class(n)) for n in ("hf", "openai", "rules"))}
    assert caps == {"hf": (True, True, True, True), "openai": (True, False, False, True),
                    "rules": (False, False, False, False)}
