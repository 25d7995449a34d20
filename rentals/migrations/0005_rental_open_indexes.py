"""Indexes for open rentals (is a copy out?) and payment dates; readable rating labels."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('rentals', '0004_roles'),
    ]

    operations = [
        migrations.AlterField(
            model_name='film',
            name='rating',
            field=models.CharField(blank=True, choices=[('G', 'G'), ('PG', 'Pg'), ('PG-13', 'PG-13'), ('R', 'R'), ('NC-17', 'NC-17')], db_default='G', default='G', max_length=5, null=True),
        ),
        migrations.AddIndex(
            model_name='payment',
            index=models.Index(fields=['payment_date'], name='idx_payment_date'),
        ),
        migrations.AddIndex(
            model_name='rental',
            index=models.Index(fields=['inventory', 'return_date'], name='idx_rental_inventory_return'),
        ),
        migrations.AddIndex(
            model_name='rental',
            index=models.Index(fields=['return_date'], name='idx_rental_return_date'),
        ),
    ]
