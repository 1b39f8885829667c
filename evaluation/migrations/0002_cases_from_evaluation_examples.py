"""Every active ``evaluation: true`` example becomes an evaluation case proposed by its author
with its label (as ``cases_from_evaluation_examples`` does for new ones). One label: open."""

from django.db import migrations


def propose(apps, schema_editor):
    Example = apps.get_model("teaching", "Example")
    EvaluationCase = apps.get_model("evaluation", "EvaluationCase")
    CaseLabel = apps.get_model("evaluation", "CaseLabel")
    made = set(EvaluationCase.objects.exclude(example_id=None).values_list("example_id", flat=True))
    examples = Example.objects.filter(evaluation=True, status="active").order_by("id")
    for example in examples.iterator():
        if example.pk in made:
            continue
        case = EvaluationCase.objects.create(
            space_id=example.space_id,
            features=example.features,
            proposed_by_id=example.author_id,
            example_id=example.pk,
        )
        CaseLabel.objects.create(case=case, user_id=example.author_id, label=example.label)


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0001_initial"),
        ("teaching", "0003_version_held"),
    ]

    operations = [migrations.RunPython(propose, migrations.RunPython.noop)]
