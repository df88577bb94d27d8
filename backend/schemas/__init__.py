"""One marshmallow schema per form and per shown item, shared by the API (bodies, answers) and the pages (forms
loaded with `pages.forms.load_form`, limits read by templates with `maxlength`)."""
from backend.schemas.chinese import use_chinese_messages

use_chinese_messages()
